/*
 * it_vocab.c - the causes incident_triage knows: for each, the rules that
 * recognise it in a message, an alert name, a health check or a runbook
 * title (token sets, see it_tokens.c and it.h's it_rule), the words of its
 * metrics, and what to do and check.  The rules are written from how the
 * stacks print their errors (tests/data/triage-corpus.jsonl holds real
 * messages with where each comes from); a rule names ideas that co-occur,
 * never a whole phrase, so wordings nobody listed still match.
 */
#include "it.h"

#include <stddef.h>

/* ---- rules ------------------------------------------------------------------ */

static const it_rule it_r_pool[] = {
    {"pool|hikaripool|queuepool + exhaust*|depleted|saturat*|overflow|full", 4},
    {"too + many + connections|clients|conns", 4},
    {"connection|connections|conn + not|no + available", 4},
    {"max + number + clients", 4},
    {"max_client_conn|query_wait_timeout|max_user_connections|max_connections", 4},
    /* Waiting for, or timing out on, a pool's connections or resources. */
    {"pool|resourcepool + acquir*|borrow*|obtain*|lease + wait*|timeout|timed", 4},
    {"pool + get|getting|resource|acquir*|borrow*|obtain*|checkout|wait*|pending|queued|"
     "timeout|timed",
     3},
    {"acquir*|obtain* + connection|connections|conn + !lock|locks", 3},
    {"remaining|reserved + connection|connections + slots", 3},
    {"active + connections + already|more|max*|limit", 3},
    {"pool + connection|connections|conn + in|use|waiting|busy|active|leak*|pending", 2},
    {"connection|connections|conn + pool", 1},
    {"hikaripool|hikari|pgbouncer", 1},
    {NULL, 0},
};
static const it_rule it_r_memory[] = {
    {"out + of + memory", 4},
    {"outofmemory*|oomkill*|oom_kill*|oom-kill*|memoryerror|bad_alloc|maxmemory", 4},
    {"oom", 4},
    {"allocat* + memory|block|heap|bytes|byte", 3},
    {"heap + space|limit|exhaust*|out|max|full|used|usage", 3},
    {"gc + overhead", 4},
    {"metaspace", 3},
    {"memory + limit|pressure|exhaust*|high|usage|exceed*|low|cgroup|overcommit", 3},
    {"killed + process + rss|total-vm|anon-rss", 3},
    {"memory|rss|heap|swap", 1},
    {NULL, 0},
};
static const it_rule it_r_timeout[] = {
    {"timed + out", 3},
    {"deadline + exceeded", 3},
    {"deadlineexceeded|deadline_exceeded|etimedout|esockettimedout|time-out", 4},
    {"504", 3},
    {"gateway + timeout", 3},
    {"request|read|write|connect|socket|upstream|operation|statement + timeout", 3},
    {"respond + time", 3},
    {"timeout|timeouts", 2},
    {"latency|slow|slowness + high|spike|increase*|p99|p95|slo", 2},
    {"took + too + long", 2},
    {"latency|slow", 1},
    {NULL, 0},
};
static const it_rule it_r_dep5xx[] = {
    {"502|503", 3},
    {"bad + gateway", 3},
    {"service + unavailable", 3},
    {"5xx", 3},
    {"circuit + open|breaker", 3},
    {"upstream|dependency|provider + error*|unavailable|failing|failure", 2},
    {"server + error + internal", 1},
    {"unavailable", 1},
    {NULL, 0},
};
static const it_rule it_r_deploy[] = {
    {"deploy*|rollout*", 3}, {"rolled + out", 3},  {"rolling + update", 3},
    {"release|canary", 2},   {"new + version", 2}, {NULL, 0},
};
static const it_rule it_r_refused[] = {
    {"connection|connect + refused + !probe", 4},
    {"econnrefused|ehostunreach|enetunreach", 4},
    {"no + healthy + upstream|upstreams|hosts|endpoints", 4},
    {"no + live + upstreams", 4},
    {"upstream + connect + error", 4},
    {"no + route + host", 4},
    {"host|network + unreachable", 4},
    {"no + server + available", 4},
    {"failed + connect + all + addresses", 4},
    {"connect|connecting|connection + 111|113", 3},
    {"failed + establish + connection", 3},
    {"down + server|backend + reason", 3},
    {"refused + !probe", 2},
    {"unreachable|econnreset", 2},
    {NULL, 0},
};
static const it_rule it_r_dns[] = {
    {"no + such + host", 4},
    {"nxdomain|servfail|eai_again|eai_noname|eai_nodata|enotfound|gaierror", 4},
    {"name + resolution", 4},
    {"no + address + hostname", 4},
    {"name + service + known", 4},
    {"unknownhost*", 4},
    {"unknown + host|hostname", 4},
    {"lookup + misbehaving|such|timeout|timed|refused|on", 4},
    {"resolv* + host|hostname|name|address|dns", 3},
    {"host + not + found", 3},
    {"name + resolver|resolve", 3},
    {"zero + addresses", 3},
    {"dns + fail*|error*|timeout|resolution|lookup|query", 3},
    {"getaddrinfo|dns", 2},
    {NULL, 0},
};
static const it_rule it_r_tls[] = {
    {"certificate|cert|certs + expired|expir*|verify|verification|unknown|invalid|revoked|"
     "self|self-signed|signed|untrusted|bad|valid|chain|issuer|problem|required",
     4},
    {"x509|pkix", 4},
    {"unknown + authority", 4},
    {"unable + local + issuer", 4},
    {"ssl|tls|sslv3|tlsv1 + handshake|alert|routines", 3},
    {"handshake + fail*|error", 3},
    {"wrong + version + number", 3},
    {"ssl|tls + error|fail*", 2},
    {"ssl|tls|certificate", 1},
    {NULL, 0},
};
static const it_rule it_r_disk[] = {
    {"no + space + left", 4},
    {"enospc|diskpressure", 4},
    {"disk + full|pressure|space|quota|watermark|used|free", 4},
    {"out + of + space|disk", 4},
    {"ephemeral-storage", 4},
    {"filesystem|volume|storage|pvc + full|space|used|free", 3},
    {"space + exceeded|exhausted|full", 3},
    {"flood + stage", 3},
    {"table + full", 3},
    {"disk", 1},
    {NULL, 0},
};
static const it_rule it_r_rate[] = {
    {"429", 4},
    {"too + many + requests", 4},
    {"toomanyrequests|ratelimit*|rate_limit*|rate-limit*|ratelimited", 4},
    {"rate + limit|limited|limits|limiting|exceeded", 4},
    {"quota + exceed*|exhaust*|limit|reached", 4},
    {"limiting + requests|connections", 4},
    {"throttl* + !cpu", 3},
    {"reduce + request + rate", 3},
    {"slowdown", 3},
    {"resourceexhausted|resource_exhausted", 2},
    {NULL, 0},
};
static const it_rule it_r_lock[] = {
    {"deadlock|deadlocks|deadlocked", 4},
    {"lock|locks|sharelock|exclusivelock + wait|waiting|waits|timeout|acquisition|acquire|"
     "obtain|held|contention|conflict|not",
     4},
    {"locked + database|table|row|file", 3},
    {"serializ* + access|concurrent", 3},
    {"lock|locks|locked", 1},
    {NULL, 0},
};
static const it_rule it_r_crash[] = {
    {"crashloopbackoff|crashloop*", 4},
    {"crash|crashing + loop|looping", 4},
    {"back-off|backoff + restart*", 4},
    {"segmentation + fault", 4},
    {"sigsegv|sigabrt|sigbus", 4},
    {"core + dumped", 4},
    {"restart + counter|job|loop", 3},
    {"restarting|restarted + container|failed|pod|process", 3},
    {"repeated + too + quickly", 3},
    {"fatal + state", 3},
    {"start + retries", 3},
    {"liveness|readiness|startup + probe", 3},
    {"panic*", 3},
    {"nil + pointer + dereference", 3},
    {"main + process + exited", 3},
    {"exited|exit + code|status|signal", 2},
    {"crashed|crash", 2},
    {"fatal + error", 2},
    {"restarts|restart", 1},
    {NULL, 0},
};
static const it_rule it_r_config[] = {
    {"createcontainerconfigerror|configmap", 4},
    {"config|configuration|settings|conf + invalid|error|errors|unknown|missing|failed|"
     "parse|parsing|unmarshal*|malformed|bad|syntax",
     3},
    {"unknown + directive|field|option|flag|setting|parameter", 3},
    {"yaml|json|toml + unmarshal*|parse|syntax", 3},
    {"missing + required + env|environment|variable|setting|key|field|option", 3},
    {"environment + variable + not|missing|unset|required", 3},
    {"flag + provided + not + defined", 3},
    {"invalid + value|argument|option|setting", 2},
    {"config|configuration + change*|changed|update*|push*|reload*", 2},
    {NULL, 0},
};
static const it_rule it_r_none[] = {{NULL, 0}};

/* ---- what to do ---------------------------------------------------------------- */

static const char *const it_mit_pool[] = {
    "Increase DB pool size (and the database's max_connections to match)",
    "Kill long-running or idle-in-transaction DB sessions that hold connections",
    "Shed or rate-limit the traffic that opens the most DB connections",
    NULL,
};
static const char *const it_mit_memory[] = {
    "Raise the memory limit or add replicas so pods stop being OOM-killed",
    "Restart the affected pods and look for a leak in the latest version (heap profile)",
    NULL,
};
static const char *const it_mit_timeout[] = {
    "Fail over or scale the slow upstream; lower client timeouts so requests do not pile up",
    "Enable circuit breaking and retries with backoff toward the slow upstream",
    NULL,
};
static const char *const it_mit_dep5xx[] = {
    "Fail over or disable the feature that calls the failing dependency",
    "Enable circuit breaking toward the failing dependency and serve degraded answers",
    NULL,
};
static const char *const it_mit_deploy[] = {
    "Roll back the latest deploy if the errors started with it",
    "Pause further rollouts of the service until the triage ends",
    NULL,
};
static const char *const it_mit_refused[] = {
    "Bring the refusing dependency back (restart it or fail over to a healthy replica)",
    "Route traffic away from the dead endpoints (load-balancer pool, service discovery)",
    NULL,
};
static const char *const it_mit_dns[] = {
    "Revert the DNS record or service-name change; restart pods that cache a bad answer",
    "Scale or fail over the cluster DNS (CoreDNS) if it times out; use a stable alias meanwhile",
    NULL,
};
static const char *const it_mit_tls[] = {
    "Renew or replace the expired or untrusted certificate and reload what presents it",
    "Install the missing CA or intermediate certificate in the clients' trust store",
    NULL,
};
static const char *const it_mit_disk[] = {
    "Free disk space now (old logs, temp files, unused images) or expand the volume",
    "Stop or throttle the writer that fills the disk (log level, runaway job)",
    NULL,
};
static const char *const it_mit_rate[] = {
    "Back off and retry with jitter; lower the concurrency toward the rate-limited API",
    "Raise the quota or rate limit, or spread the load over more keys or projects",
    NULL,
};
static const char *const it_mit_lock[] = {
    "Kill the session or long transaction that holds the blocking locks",
    "Retry deadlocked transactions and shorten transactions that take locks in different orders",
    NULL,
};
static const char *const it_mit_crash[] = {
    "Roll back to the last version that did not crash, or pin it",
    "Fix or switch off the code path that panics; keep the restart back-off so it spares "
    "the dependencies",
    NULL,
};
static const char *const it_mit_config[] = {
    "Revert the configuration change (ConfigMap, env vars, flags) to the last good version",
    "Validate the configuration before the next rollout and restart the pods with the fix",
    NULL,
};
static const char *const it_mit_unknown[] = {
    "Inspect the top error signature and the latest changes to the service",
    NULL,
};

/* ---- what to check (the first one for a cause that is not the top) ------------ */

static const char *const it_chk_pool[] = {
    "Check DB active connections against the pool size, and the slowest queries holding them",
    NULL,
};
static const char *const it_chk_memory[] = {
    "Check memory usage, OOMKilled events and restarts of the pods (kubectl describe pod)",
    NULL,
};
static const char *const it_chk_timeout[] = {
    "Check latency and error rate of the upstream dependencies over the window",
    NULL,
};
static const char *const it_chk_dep5xx[] = {
    "Check the health and recent changes of the dependency answering 5xx",
    NULL,
};
static const char *const it_chk_deploy[] = {
    "Compare error rate and latency before and after the latest deploy",
    NULL,
};
static const char *const it_chk_refused[] = {
    "Check that the dependency is up and listening: its pods, endpoints and port "
    "(kubectl get endpoints; nc -vz host port)",
    "Check recent restarts, scaling or network-policy changes of the dependency",
    NULL,
};
static const char *const it_chk_dns[] = {
    "Resolve the failing name from an affected pod (nslookup, dig) and read the DNS "
    "server's errors (CoreDNS logs)",
    "Check recent changes to DNS records, service names and search domains",
    NULL,
};
static const char *const it_chk_tls[] = {
    "Inspect the presented chain and its dates (openssl s_client -connect host:443 -showcerts)",
    "Check the certificate renewal job (cert-manager, ACME) and recent CA or TLS changes",
    NULL,
};
static const char *const it_chk_disk[] = {
    "Check disk usage and the largest directories of the affected node or volume (df -h; du)",
    "Check log rotation and retention of the service",
    NULL,
};
static const char *const it_chk_rate[] = {
    "Check which caller spends the quota, and the limits and Retry-After of the 429 answers",
    "Check for traffic growth or retry storms toward the limited API",
    NULL,
};
static const char *const it_chk_lock[] = {
    "List blocking and blocked sessions (pg_locks with pg_stat_activity; SHOW ENGINE INNODB "
    "STATUS)",
    "Find the statements and the change that began holding locks longer",
    NULL,
};
static const char *const it_chk_crash[] = {
    "Read the previous container's logs and exit code (kubectl logs --previous; kubectl "
    "describe pod)",
    "Check the first crash's stack trace and what changed just before it",
    NULL,
};
static const char *const it_chk_config[] = {
    "Diff the running configuration against the last good one (kubectl diff, the config "
    "repository's log)",
    "Check the start-up logs for the first configuration error",
    NULL,
};
static const char *const it_chk_unknown[] = {
    "Search the logs around the first occurrence of the top error signature",
    NULL,
};

/* ---- metrics ------------------------------------------------------------------- */

/* Substrings of metric names quoted in a cause's evidence list. */
static const char *const it_hint_pool[] = {"pool", "conn", "db_", NULL};
static const char *const it_hint_memory[] = {"mem", "oom", "restart", "rss", "heap", NULL};
static const char *const it_hint_timeout[] = {"latency", "timeout", "p95", "p99", NULL};
static const char *const it_hint_dep5xx[] = {"5xx", "upstream", "dependency", NULL};
static const char *const it_hint_deploy[] = {"deploy", "version", "release", NULL};
static const char *const it_hint_refused[] = {"refused", "unreachable", "connect_err", NULL};
static const char *const it_hint_dns[] = {"dns", "nxdomain", "resolv", NULL};
static const char *const it_hint_tls[] = {"cert", "tls", "ssl", NULL};
static const char *const it_hint_disk[] = {"disk", "filesystem", "volume", "inode", NULL};
static const char *const it_hint_rate[] = {"429",        "throttl", "ratelimit",
                                           "rate_limit", "quota",   NULL};
static const char *const it_hint_lock[] = {"lock", NULL};
static const char *const it_hint_crash[] = {"restart", "crash", "panic", NULL};
static const char *const it_hint_config[] = {"config", NULL};

/* Words of metric names (split at '_', '.', '-' and CamelCase) that say
 * which cause a metric measures.  A '~' marks a word that only counts when
 * no other cause's word is in the name ("redis_connection_refused" is a
 * refusal, "active_connections" the pool). */
static const char *const it_mw_pool[] = {"pool",        "hikari",       "hikaricp",
                                         "pgbouncer",   "~conn",        "~conns",
                                         "~connection", "~connections", NULL};
static const char *const it_mw_memory[] = {"mem", "memory", "heap", "rss", "oom", NULL};
static const char *const it_mw_timeout[] = {"latency", "p99", "p95", "timeout", "timeouts", NULL};
static const char *const it_mw_dep5xx[] = {"5xx", "502", "503", NULL};
static const char *const it_mw_deploy[] = {"deploy", "deployment", "release", "rollout", NULL};
static const char *const it_mw_refused[] = {"refused", "unreachable", "econnrefused", NULL};
static const char *const it_mw_dns[] = {"dns", "nxdomain", "servfail", "resolve", "resolver", NULL};
static const char *const it_mw_tls[] = {"cert", "certificate", "tls", "ssl", "x509", NULL};
static const char *const it_mw_disk[] = {"disk",  "fs",     "filesystem", "volume", "storage",
                                         "inode", "inodes", "pvc",        NULL};
static const char *const it_mw_rate[] = {"429",       "throttled",   "throttle",   "throttling",
                                         "ratelimit", "ratelimited", "rate_limit", "rate_limited",
                                         "quota",     NULL};
static const char *const it_mw_lock[] = {"lock", "locks", "deadlock", "deadlocks", NULL};
static const char *const it_mw_crash[] = {"restart", "restarts", "crash",     "crashes",
                                          "panic",   "panics",   "crashloop", NULL};
static const char *const it_mw_config[] = {"config", "configuration", NULL};
static const char *const it_none[] = {NULL};

static const it_cause_info it_cause_table[IT_CAUSE_COUNT + 1] = {
    [IT_CAUSE_POOL] = {"connection_pool", "DB connection-pool exhaustion",
                       "DB connection-pool exhaustion", it_r_pool, it_mit_pool, it_chk_pool,
                       it_hint_pool, it_mw_pool},
    [IT_CAUSE_MEMORY] = {"memory_pressure", "Memory pressure (OOM kills)",
                         "memory pressure (OOM kills)", it_r_memory, it_mit_memory, it_chk_memory,
                         it_hint_memory, it_mw_memory},
    [IT_CAUSE_TIMEOUT] = {"upstream_timeouts", "Upstream timeouts", "upstream timeouts",
                          it_r_timeout, it_mit_timeout, it_chk_timeout, it_hint_timeout,
                          it_mw_timeout},
    [IT_CAUSE_DEP5XX] = {"dependency_5xx", "Dependency 5xx errors", "dependency 5xx errors",
                         it_r_dep5xx, it_mit_dep5xx, it_chk_dep5xx, it_hint_dep5xx, it_mw_dep5xx},
    [IT_CAUSE_DEPLOY] = {"recent_deploy", "Recent deploy", "a recent deploy", it_r_deploy,
                         it_mit_deploy, it_chk_deploy, it_hint_deploy, it_mw_deploy},
    [IT_CAUSE_REFUSED] = {"dependency_unreachable", "Dependency refused/unreachable",
                          "a dependency refusing connections or unreachable", it_r_refused,
                          it_mit_refused, it_chk_refused, it_hint_refused, it_mw_refused},
    [IT_CAUSE_DNS] = {"dns_failure", "DNS resolution failures", "DNS resolution failures", it_r_dns,
                      it_mit_dns, it_chk_dns, it_hint_dns, it_mw_dns},
    [IT_CAUSE_TLS] = {"tls_certificate", "TLS/certificate errors", "TLS/certificate errors",
                      it_r_tls, it_mit_tls, it_chk_tls, it_hint_tls, it_mw_tls},
    [IT_CAUSE_DISK] = {"disk_full", "Disk full", "a full disk", it_r_disk, it_mit_disk, it_chk_disk,
                       it_hint_disk, it_mw_disk},
    [IT_CAUSE_RATE] = {"rate_limited", "Rate limiting/quota exhaustion",
                       "rate limiting or quota exhaustion", it_r_rate, it_mit_rate, it_chk_rate,
                       it_hint_rate, it_mw_rate},
    [IT_CAUSE_LOCK] = {"lock_contention", "Lock contention/deadlocks",
                       "lock contention or deadlocks", it_r_lock, it_mit_lock, it_chk_lock,
                       it_hint_lock, it_mw_lock},
    [IT_CAUSE_CRASH] = {"crash_loop", "Crash loop (restarts, panics)", "a crash loop", it_r_crash,
                        it_mit_crash, it_chk_crash, it_hint_crash, it_mw_crash},
    [IT_CAUSE_CONFIG] = {"config_error", "Configuration error after a change",
                         "a configuration error after a change", it_r_config, it_mit_config,
                         it_chk_config, it_hint_config, it_mw_config},
    [IT_CAUSE_UNKNOWN] = {"unknown", "Unknown", "an unknown cause", it_r_none, it_mit_unknown,
                          it_chk_unknown, it_none, it_none},
};

/*
 * When two causes match a text equally: the one that names the mechanism
 * before the one that names its symptom.  An expired certificate or a DNS
 * failure also makes the connect fail; a lock wait also times out; a
 * refusal is often answered with a 503.
 */
const int it_cause_priority[IT_CAUSE_COUNT] = {
    IT_CAUSE_TLS,     IT_CAUSE_DNS,    IT_CAUSE_LOCK,   IT_CAUSE_DISK,  IT_CAUSE_RATE,
    IT_CAUSE_POOL,    IT_CAUSE_MEMORY, IT_CAUSE_CONFIG, IT_CAUSE_CRASH, IT_CAUSE_REFUSED,
    IT_CAUSE_TIMEOUT, IT_CAUSE_DEP5XX, IT_CAUSE_DEPLOY,
};

const it_cause_info *it_cause_get(int id)
{
    if (id < 0 || id > IT_CAUSE_UNKNOWN)
        return NULL;
    return &it_cause_table[id];
}
