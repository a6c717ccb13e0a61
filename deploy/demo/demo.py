#!/usr/bin/env python3
"""Helpers of deploy/demo/run (python3 standard library only).

  demo.py aws SIM_URL                  what AWS saw: instances per block and account
  demo.py finish SIM_URL ACCOUNT JOB   the job's workload ends: its instances shut
                                       themselves down (TerminateInstances, signed as
                                       the account's workload user of the scenario)
  demo.py summary SIM_URL SINCE JOBS   utilisation per block over the run: instance-
                                       hours used by cbq and outside cbq, and idle

It is the demo's narrator, not part of cbq: it reads cbq-awssim's /_sim/state
and, for `finish`, signs two EC2 calls with SigV4 itself. JOBS is a file of
`block|instance_count|started_at|ended_at` lines (psql -At) with cbq's own
view, printed next to what AWS saw. It checks nothing and fixes nothing.
"""
import datetime
import hashlib
import hmac
import json
import sys
import urllib.parse
import urllib.request

REGION = "us-east-1"
# The workload users of deploy/demo/scenario.json: the teams' own code, which
# may end its own instances (cbq's broker never holds these keys).
WORKLOAD_KEYS = {
    "222200000001": ("AKIADEMOSPEECHML0001", "demoSpeechWorkloadSecretNotARealKey00001"),
    "111100000002": ("AKIADEMOVISIONML0002", "demoVisionWorkloadSecretNotARealKey00002"),
    "333300000001": ("AKIADEMONLPML0000001", "demoNlpWorkloadSecretNotARealKey00000001"),
}
MAX_REPLY = 4 << 20


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read(MAX_REPLY))


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def sim_state(sim):
    return get_json(sim + "/_sim/state")


# ---- aws ------------------------------------------------------------------------


def cmd_aws(sim):
    st = sim_state(sim)
    rows = {}
    for i in st["instances"]:
        if i["state"] == "terminated":
            continue
        who = "outside cbq" if i["outside"] else "cbq job " + i["tags"].get("cbq:job", "?")
        key = (i["block"], i["account"], who, i["state"])
        rows[key] = rows.get(key, 0) + 1
    print(f"{'BLOCK':<21} {'ACCOUNT':<13} {'LAUNCHED BY':<14} {'STATE':<14} INSTANCES")
    for (block, account, who, state), n in sorted(rows.items()):
        print(f"{block:<21} {account:<13} {who:<14} {state:<14} {n}")
    if not rows:
        print("(no instances)")


# ---- finish ---------------------------------------------------------------------


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def ec2_call(sim, account, params):
    """One signed EC2 query call at the emulator's simulated time."""
    akid, secret = WORKLOAD_KEYS[account]
    now = parse_time(get_json(sim + "/_sim/health")["now"])
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    body = urllib.parse.urlencode(dict(params, Version="2016-11-15"),
                                  quote_via=urllib.parse.quote)
    host = urllib.parse.urlsplit(sim).netloc
    ctype = "application/x-www-form-urlencoded; charset=utf-8"
    signed = "content-type;host;x-amz-date"
    canonical = "\n".join([
        "POST", "/", "",
        f"content-type:{ctype}", f"host:{host}", f"x-amz-date:{amz_date}", "",
        signed, hashlib.sha256(body.encode()).hexdigest()])
    scope = f"{day}/{REGION}/ec2/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + secret).encode(), day)
    for part in (REGION, "ec2", "aws4_request"):
        key = _hmac(key, part)
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(sim + "/", data=body.encode(), method="POST", headers={
        "Content-Type": ctype, "X-Amz-Date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, "
                         f"SignedHeaders={signed}, Signature={sig}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read(MAX_REPLY).decode()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"demo.py: {params['Action']}: HTTP {e.code}: "
                         f"{e.read(2000).decode(errors='replace')}")


def cmd_finish(sim, account, job):
    reply = ec2_call(sim, account, {
        "Action": "DescribeInstances",
        "Filter.1.Name": "tag:cbq:job", "Filter.1.Value.1": job,
        "Filter.2.Name": "instance-state-name", "Filter.2.Value.1": "running",
        "Filter.2.Value.2": "pending"})
    ids = sorted(set(p.split("<")[0] for p in reply.split("<instanceId>")[1:]))
    if not ids:
        print(f"job {job}: no running instances in {account}")
        return
    params = {"Action": "TerminateInstances"}
    for n, i in enumerate(ids, 1):
        params[f"InstanceId.{n}"] = i
    ec2_call(sim, account, params)
    print(f"job {job}: its workload is done; it shuts down {' '.join(ids)} in {account}")


# ---- summary --------------------------------------------------------------------


def hours(a, b):
    return max(0.0, (b - a).total_seconds() / 3600)


def cmd_summary(sim, since, jobs_file):
    st = sim_state(sim)
    now = parse_time(st["now"])
    since = parse_time(since)
    cbq_pg = {}
    with open(jobs_file) as f:
        for line in f:
            if not line.strip():
                continue
            block, count, started, ended = line.rstrip("\n").split("|")
            end = parse_time(ended) if ended else now
            cbq_pg[block] = cbq_pg.get(block, 0.0) + int(count) * hours(parse_time(started),
                                                                        min(end, now))
    print(f"{'BLOCK':<21} {'TYPE':<13} {'SLOTS':>5} {'OPEN h':>7} {'CAPACITY':>9}"
          f" {'CBQ':>7} {'OUTSIDE':>8} {'IDLE':>7}  {'USED':>5}  CBQ (Postgres)")
    for b in st["blocks"]:
        lo = max(since, parse_time(b["start"]))
        hi = min(now, parse_time(b["cutoff"]))
        open_h = hours(lo, hi)
        cap = open_h * b["total"]
        use = {True: 0.0, False: 0.0}
        for i in st["instances"]:
            if i["block"] != b["id"]:
                continue
            start = max(parse_time(i["launch_time"]), lo)
            end = parse_time(i["end_time"]) if i["end_time"] else now
            use[i["outside"]] += hours(start, min(end, hi))
        idle = max(0.0, cap - use[True] - use[False])
        busy = 100 * (use[True] + use[False]) / cap if cap else 0
        print(f"{b['id']:<21} {b['instance_type']:<13} {b['total']:>5} {open_h:>7.1f}"
              f" {cap:>8.1f}h {use[False]:>6.1f}h {use[True]:>7.1f}h {idle:>6.1f}h"
              f"  {busy:>4.0f}%  {cbq_pg.get(b['id'], 0.0):.1f}h")
    print(f"(instance-hours from {since:%a %H:%M} to {now:%a %H:%M} simulated, as cbq-awssim's"
          " /_sim/state saw them;\n the last column is cbq's own record in Postgres: each job from"
          " its launch to when\n cbqd noticed its end, a reconcile round later)")


def main(argv):
    if len(argv) == 3 and argv[1] == "aws":
        cmd_aws(argv[2])
    elif len(argv) == 5 and argv[1] == "finish":
        cmd_finish(argv[2], argv[3], argv[4])
    elif len(argv) == 5 and argv[1] == "summary":
        cmd_summary(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
