#!/usr/bin/env python3
"""Static checks of the container files (no Docker runs here): etc/Dockerfile,
etc/docker-compose.node2-sofiia-supervisor.yml and .env.example, against the
original design's NODA2 deployment and the daemon's own list of settings.

    check_container.py SRCDIR SETTINGS_FILE     (one setting name per line)

Prints one line per check; exit 1 when any failed.
"""
import re
import shlex
import sys

import yaml

src, settings_file = sys.argv[1], sys.argv[2]
SETTINGS = set(open(settings_file).read().split())
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures += 1


# --- Dockerfile: instructions (continuations joined), split into stages ---
text = open(f"{src}/etc/Dockerfile").read()
text = re.sub(r"\\\n", " ", text)
instructions = []
for line in text.splitlines():
    line = line.strip()
    if line and not line.startswith("#"):
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
stages = []
for word, rest in instructions:
    if word == "FROM":
        stages.append({"from": rest, "ins": []})
    elif stages:
        stages[-1]["ins"].append((word, rest))
check(len(stages) >= 2, f"Dockerfile: multi-stage ({len(stages)} stages)")
check(stages and re.fullmatch(r"debian:12\s+AS\s+\w+", stages[0]["from"], re.I) is not None,
      f"Dockerfile: builds on debian:12 ({stages[0]['from'] if stages else '-'})")
final = stages[-1] if stages else {"from": "", "ins": []}
check(final["from"] == "debian:12-slim", f"Dockerfile: runs on debian:12-slim ({final['from']})")


def final_all(word):
    return [rest for w, rest in final["ins"] if w == word]


users = final_all("USER")
check(users and users[-1].split(":")[0] not in ("root", "0"),
      f"Dockerfile: the final stage runs as a non-root USER ({users[-1] if users else 'none'})")
health = final_all("HEALTHCHECK")
check(any("/healthz" in h and "CMD" in h for h in health),
      "Dockerfile: HEALTHCHECK probes /healthz")
check(any("8080" in e.split() for e in final_all("EXPOSE")), "Dockerfile: EXPOSE 8080")
entry = " ".join(final_all("ENTRYPOINT") + final_all("CMD"))
check("sofiia-supervisor" in entry, "Dockerfile: the daemon is the entrypoint")
envs = {}
for e in final_all("ENV"):
    for tok in shlex.split(e):
        k, eq, v = tok.partition("=")
        if eq:
            envs[k] = v
check(set(envs) <= SETTINGS, f"Dockerfile: ENV sets only settings ({sorted(set(envs) - SETTINGS)})")
check("PLUGIN_DIR" in envs and "PLUGIN_CACHE_DIR" in envs,
      "Dockerfile: ENV PLUGIN_DIR and PLUGIN_CACHE_DIR")
check(not envs.get("PLUGIN_CACHE_DIR", "/tmp").startswith(("/tmp", "/run", "/dev/shm")),
      f"Dockerfile: PLUGIN_CACHE_DIR not on a tmpfs ({envs.get('PLUGIN_CACHE_DIR')})")
runs = " ".join(final_all("RUN"))
check(not re.search(r"\S+-dev\b", runs), "Dockerfile: no -dev package in the runtime stage")
check("curl" in runs, "Dockerfile: the runtime stage has curl for the health check")
copies = " ".join(final_all("COPY"))
check("sofiia/plugins" in copies, "Dockerfile: the graphs are copied into the runtime image")
build_runs = " ".join(rest for w, rest in stages[0]["ins"] if w == "RUN") if stages else ""
for graph in ("release_check", "incident_triage"):
    check(f"{envs.get('PLUGIN_DIR', '-')}/{graph}.so" in build_runs.replace("/out/", "/"),
          f"Dockerfile: the build proves {graph}.so is in PLUGIN_DIR")

# --- docker-compose.node2-sofiia-supervisor.yml ---
with open(f"{src}/etc/docker-compose.node2-sofiia-supervisor.yml") as f:
    compose = yaml.safe_load(f)
check(isinstance(compose, dict), "compose: parses as a YAML mapping")
services = compose.get("services", {}) if isinstance(compose, dict) else {}
check({"sofiia-supervisor", "sofiia-redis"} <= set(services),
      f"compose: services sofiia-supervisor and sofiia-redis ({sorted(services)})")
sup = services.get("sofiia-supervisor", {}) or {}
red = services.get("sofiia-redis", {}) or {}


def port_pairs(svc):
    pairs = set()
    for p in svc.get("ports", []) or []:
        if isinstance(p, dict):
            pairs.add((str(p.get("published")), str(p.get("target"))))
        else:
            parts = str(p).split("/")[0].split(":")
            if len(parts) >= 2:
                pairs.add((parts[-2], parts[-1]))
    return pairs


check(("8084", "8080") in port_pairs(sup), f"compose: port 8084 -> 8080 ({port_pairs(sup)})")
build = sup.get("build", {})
check(isinstance(build, dict) and build.get("dockerfile") == "etc/Dockerfile",
      "compose: sofiia-supervisor is built from etc/Dockerfile")
env = sup.get("environment", {})
if isinstance(env, list):
    env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
for k in ("GATEWAY_BASE_URL", "SUPERVISOR_API_KEY", "SUPERVISOR_INTERNAL_KEY", "REDIS_URL"):
    check(k in env, f"compose: sofiia-supervisor gets {k}")
check(set(env) <= SETTINGS, f"compose: only settings in environment ({sorted(set(env) - SETTINGS)})")
check("sofiia-redis:6379" in str(env.get("REDIS_URL", "")), "compose: REDIS_URL names sofiia-redis:6379")
check("router:8000" in str(env.get("GATEWAY_BASE_URL", "")), "compose: the router is http://router:8000 by default")
deps = sup.get("depends_on", {})
check("sofiia-redis" in (deps if isinstance(deps, (dict, list)) else []),
      "compose: sofiia-supervisor depends on sofiia-redis")
cmd = red.get("command", [])
cmd = cmd if isinstance(cmd, list) else shlex.split(cmd)
check("--appendonly" in cmd and cmd[cmd.index("--appendonly") + 1] == "yes",
      f"compose: Redis with AOF on ({' '.join(cmd)})")
named = set((compose.get("volumes") or {}).keys())
red_vols = [str(v) if not isinstance(v, dict) else f"{v.get('source')}:{v.get('target')}"
            for v in red.get("volumes", []) or []]
check(any(v.split(":")[0] in named and v.split(":")[1] == "/data" for v in red_vols),
      f"compose: Redis keeps /data in a named volume ({red_vols})")
sup_vols = [str(v) for v in sup.get("volumes", []) or []]
cache_target = envs.get("PLUGIN_CACHE_DIR", "-")
check(any(v.split(":")[1] == cache_target for v in sup_vols if ":" in v),
      f"compose: PLUGIN_CACHE_DIR ({cache_target}) is a volume, writable under read_only")
nets = compose.get("networks") or {}
dagi = nets.get("dagi-network-node2") or {}
sup_nets = sup.get("networks", [])
check("dagi-network-node2" in sup_nets and dagi.get("external") is True,
      "compose: sofiia-supervisor attaches to the existing dagi-network-node2")
check("dagi-network-node2" not in (red.get("networks") or []),
      "compose: Redis is not on the shared network")
check(sup.get("healthcheck") is None or "/healthz" in str(sup.get("healthcheck")),
      "compose: the image's HEALTHCHECK is kept")

# --- .env.example (the seed: cp services/sofiia-supervisor/.env.example .env) ---
example = {}
for line in open(f"{src}/.env.example"):
    line = line.strip()
    if line and not line.startswith("#"):
        k, _, v = line.partition("=")
        example[k.strip()] = v
for k in ("GATEWAY_BASE_URL", "SUPERVISOR_API_KEY", "SUPERVISOR_INTERNAL_KEY"):
    check(k in example, f".env.example: {k}")
check(set(example) <= SETTINGS, f".env.example: only settings ({sorted(set(example) - SETTINGS)})")
check(not example.get("SUPERVISOR_API_KEY") and not example.get("SUPERVISOR_INTERNAL_KEY"),
      ".env.example: no key filled in")

print(f"{failures} failed" if failures else "all container checks passed")
sys.exit(1 if failures else 0)
