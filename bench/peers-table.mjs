#!/usr/bin/env node
// One table from the drive.mjs JSONL lines that bench/peers.sh collects (labels
// "SERVER@gwLATENCY/SCENARIO/REP"): per gateway latency, scenario and server, the median over
// repetitions of runs/s (min-max when there are several), start latency p99, server process CPU per
// run and per node, Redis's CPU per run (servers measured with WITH_REDIS=1: the last pid), peak RSS
// of the server process, and runs/s as a ratio to BullMQ and to LangGraph.js of the same cell.
//
// usage: node bench/peers-table.mjs [--servers "sofiia sofiia-redis lgjs bullmq"] [--info FILE] FILE.jsonl...
import fs from "node:fs";
import os from "node:os";

const args = process.argv.slice(2);
let order = ["sofiia", "sofiia-redis", "lgjs", "bullmq"];
let info = "";
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--servers") order = args[++i].split(/\s+/).filter(Boolean);
  else if (args[i] === "--info") info = args[++i];
  else files.push(args[i]);
}

const cells = new Map(); // "lat\tscenario" -> Map(server -> rows)
for (const f of files) {
  for (const line of fs.readFileSync(f, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let r;
    try { r = JSON.parse(line); } catch { continue; }
    const m = /^(.+)@gw(\d+)\/(.+)\/\d+$/.exec(r.label || "");
    if (!m) continue;
    const [, srv, lat, sc] = m;
    const k = `${lat}\t${sc}`;
    if (!cells.has(k)) cells.set(k, new Map());
    const c = cells.get(k);
    if (!c.has(srv)) c.set(srv, []);
    c.get(srv).push(r);
  }
}

const med = (a) => {
  const s = a.filter(Number.isFinite).sort((x, y) => x - y);
  const n = s.length;
  if (!n) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const withRange = (a, d) => {
  const s = a.filter(Number.isFinite);
  if (s.length < 2) return fmt(med(s), d);
  return `${fmt(med(s), d)} (${fmt(Math.min(...s), d)}-${fmt(Math.max(...s), d)})`;
};
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");

const keys = [...cells.keys()].sort((a, b) => {
  const [la, sa] = a.split("\t"), [lb, sb] = b.split("\t");
  return Number(la) - Number(lb) || sa.localeCompare(sb);
});
const servers = (c) => [...order.filter((s) => c.has(s)), ...[...c.keys()].filter((s) => !order.includes(s))];

console.log("| gw ms | scenario | server | reps | runs/s | ×bullmq | ×lgjs | start p99 ms | CPU ms/run | CPU ms/node | Redis CPU ms/run | peak RSS MiB | ok/failed/err |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
let otherMax = 0;
let busyMax = 0;
const notes = [];
for (const k of keys) {
  const [lat, sc] = k.split("\t");
  const c = cells.get(k);
  const rps = (s) => (c.has(s) ? med(c.get(s).map((r) => r.runs_per_s)) : NaN);
  for (const s of servers(c)) {
    const rs = c.get(s);
    const ok = rs.reduce((a, r) => a + r.succeeded, 0);
    const bad = rs.reduce((a, r) => a + r.failed, 0);
    const err = rs.reduce((a, r) => a + r.errors, 0);
    if (bad || err) {
      const samples = [...new Set(rs.flatMap((r) => r.error_samples || []))].slice(0, 2);
      notes.push(`${s} gw ${lat} ms ${sc}: ${bad} failed, ${err} errors${samples.length ? ` (${samples.join(" | ")})` : ""}`);
    }
    for (const r of rs) {
      otherMax = Math.max(otherMax, r.other_cpu_s || 0);
      busyMax = Math.max(busyMax, r.measure_s ? r.machine_busy_s / r.measure_s : 0);
    }
    const p0 = (f) => rs.map((r) => (r.procs && r.procs[0] ? f(r.procs[0], r) : NaN));
    const redis = rs.map((r) => (r.procs && r.procs.length > 1 ? r.procs[r.procs.length - 1].cpu_ms_per_run : NaN));
    const cols = [
      lat, sc, s, rs.length,
      withRange(rs.map((r) => r.runs_per_s), 1),
      s === "bullmq" ? "1" : ratio(rps(s), rps("bullmq")),
      s === "lgjs" ? "1" : ratio(rps(s), rps("lgjs")),
      fmt(med(rs.map((r) => r.start_ms?.p99)), 2),
      fmt(med(p0((p) => p.cpu_ms_per_run)), 3),
      fmt(med(p0((p, r) => (r.nodes ? p.cpu_ms_per_run / r.nodes : NaN))), 3),
      redis.some(Number.isFinite) ? fmt(med(redis), 3) : "-",
      fmt(med(p0((p) => p.peak_rss_mib)), 1),
      `${ok}/${bad}/${err}`,
    ];
    console.log(`| ${cols.join(" | ")} |`);
  }
}
if (!keys.length) console.log("| (no results) |||||||||||||");
console.log();
if (info && fs.existsSync(info)) for (const l of fs.readFileSync(info, "utf8").trim().split("\n")) console.log(`${l}`);
console.log("Medians over the repetitions (runs/s: median (min-max)). ×bullmq, ×lgjs: this row's median runs/s ÷ that peer's, same latency and scenario.");
console.log("CPU: the server process only (daemon CPU ÷ nodes, the driver's GETs included); Redis CPU beside it for the Redis servers. Peak RSS: VmHWM of the server process.");
console.log(`Noise: other processes used up to ${otherMax.toFixed(2)} CPU s during a measurement; the machine was up to ${busyMax.toFixed(2)} of ${os.cpus().length} CPUs busy.`);
for (const n of notes) console.log(`! ${n}`);
