# Sourced by the benchmarks (launch-pipeline, memory-100k, loop-lag, submit-vs-pgbench):
# a throwaway Postgres (deploy/pgtmp), certificates, cbq-awssim with a
# generated scenario, cbqd, and reading /metrics. Everything started is
# recorded and ended by the EXIT trap, and the temporary directory removed.
# Not a test harness: benchmarks print numbers and assert nothing.
# Binaries from $CBQ_BIN (default build/bin next to this tree).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${CBQ_BIN:-$here/build/bin}
bench_pids=()
bench_tmp=
bench_pg=

bench_cleanup() {
	local p
	for p in "${bench_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${bench_pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[ -n "$bench_pg" ] && "$here/deploy/pgtmp" stop "$bench_pg" >/dev/null 2>&1 || true
	[ -n "$bench_tmp" ] && [ -z "${BENCH_KEEP:-}" ] && rm -rf "$bench_tmp"
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $bench_tmp" >&2
	return 0
}

# bench_init NAME BINARY...: checks the binaries, makes $bench_tmp, sets the trap.
bench_init() {
	local name=$1 b
	shift
	for b in "$@"; do
		[ -x "$bin/$b" ] || { echo "$name: no $bin/$b; build first (cmake --build build)" >&2; exit 1; }
	done
	bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/cbq-$name.XXXXXX")
	chmod 0755 "$bench_tmp" # Postgres runs as another user when we are root (deploy/pgtmp)
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_postgres: a cluster and a migrated database cbq; sets conninfo and PG*.
bench_postgres() {
	local pgenv
	bench_pg=$bench_tmp/pg
	pgenv=$("$here/deploy/pgtmp" start "$bench_pg")
	eval "$pgenv"
	psql -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE cbq" >/dev/null
	conninfo="host=$PGHOST port=$PGPORT user=$PGUSER dbname=cbq"
	"$bin/cbqd" migrate --db "$conninfo" >"$bench_tmp/migrate.log" 2>&1 ||
		{ cat "$bench_tmp/migrate.log" >&2; exit 1; }
}

bench_sql() {
	psql -qXtA -v ON_ERROR_STOP=1 -d cbq "$@"
}

# bench_fleet ACCOUNTS TEAMS BLOCKS PER_BLOCK [TYPES]: writes
# $bench_tmp/scenario.json (a broker user, ACCOUNTS accounts in one
# organisation each with a role cbq-launcher trusting the broker, BLOCKS
# active blocks of PER_BLOCK instances shared with the whole organisation,
# their instance types taken in turn from the comma-separated TYPES,
# default p5.48xlarge; epoch now) and registers
# the same teams, accounts and blocks in the database. Account i (0-based)
# is 1000000000xx = 100000000001 + i, of team team-(i % TEAMS).
bench_fleet() {
	python3 - "$1" "$2" "$3" "$4" "${5:-p5.48xlarge}" "$bench_tmp" <<'PY'
import json, sys, time
accounts, teams, blocks, per_block = (int(a) for a in sys.argv[1:5])
types, tmp = sys.argv[5].split(","), sys.argv[6]
now = int(time.time())
iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
broker = "arn:aws:iam::999900000000:user/cbq-broker"
acc = ["%012d" % (100000000001 + i) for i in range(accounts)]
blk = ["cr-%017x" % (0xb000 + j) for j in range(blocks)]
scen = {
    "region": "us-east-1", "epoch": iso(now),
    "principals": [{"arn": broker, "access_key": "AKIABENCHBROKER00001",
                    "secret_key": "benchBrokerSecretKey00000000000000000001"}],
    "organization": {"id": "o-cbqbench001", "management_account": "999900000000"},
    "accounts": [{"id": a, "roles": [{"name": "cbq-launcher", "trust": [broker]}]} for a in acc],
    "blocks": [{"id": b, "owner": "999900000000", "instance_type": types[j % len(types)],
                "az": "us-east-1a", "count": per_block, "start": iso(now - 3600),
                "end": iso(now + 7 * 86400), "state": "active", "shared_with": ["org"]}
               for j, b in enumerate(blk)],
    "timing": {"pending_seconds": 0},
}
json.dump(scen, open(tmp + "/scenario.json", "w"))
with open(tmp + "/fleet.sql", "w") as f:
    f.write("INSERT INTO teams (name) SELECT 'team-' || t FROM generate_series(0, %d) t;\n" % (teams - 1))
    f.write("INSERT INTO accounts (account_id, team, role_arn) VALUES %s;\n" % ",".join(
        "('%s', 'team-%d', 'arn:aws:iam::%s:role/cbq-launcher')" % (a, i % teams, a) for i, a in enumerate(acc)))
    for j, b in enumerate(blk):
        f.write("INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total, available,"
                " state, start_at, end_at) VALUES ('%s', '999900000000', 'us-east-1', 'us-east-1a',"
                " '%s', %d, %d, 'active', '%s', '%s');\n" % (b, types[j % len(types)], per_block, per_block, iso(now - 3600), iso(now + 7 * 86400)))
        f.write("INSERT INTO block_consumers SELECT '%s', account_id FROM accounts;\n" % b)
PY
	bench_sql -f "$bench_tmp/fleet.sql" >/dev/null
}

# bench_jobs N ACCOUNTS TEAMS [TYPES]: N queued jobs, round robin over the
# accounts of bench_fleet, kinds training / inference / research and the
# instance types of TYPES (default p5.48xlarge) in turn; one instance each
# unless TYPES is given (then 1..4), walltimes of 1 to 2.6 hours.
bench_jobs() {
	local types=${4:-p5.48xlarge} counts=1
	[ -n "${4:-}" ] && counts="1 + g % 4"
	bench_sql >/dev/null <<SQL
INSERT INTO jobs (team, account_id, name, kind, instance_type, instance_count, duration_s,
  priority, image_id, tags, submitted_at, updated_at, submitted_by)
SELECT 'team-' || ((g % $2) % $3), (100000000001 + g % $2)::text, 'bench-' || g,
  (ARRAY['training', 'inference', 'research'])[1 + g % 3],
  (string_to_array('$types', ','))[1 + g % array_length(string_to_array('$types', ','), 1)],
  $counts,
  3600 + 60 * (g % 97), g % 7, 'ami-0123456789abcdef0',
  '[{"key": "bench", "value": "fleet"}]', now() - make_interval(secs => $1 - g), now(), 'bench'
FROM generate_series(0, $1 - 1) g;
SQL
}

# bench_awssim: cbq-awssim on $bench_tmp/scenario.json (real clock); sets
# sim_url and the AWS environment cbqd inherits.
bench_awssim() {
	"$bin/cbq-awssim" --listen 127.0.0.1:0 --scenario "$bench_tmp/scenario.json" --clock real \
		--log-level warn >"$bench_tmp/awssim.out" 2>"$bench_tmp/awssim.log" &
	bench_pids+=($!)
	local _i addr=
	for _i in $(seq 100); do
		addr=$(sed -n 's/^cbq-awssim listening on //p' "$bench_tmp/awssim.out")
		[ -n "$addr" ] && break
		sleep 0.05
	done
	[ -n "$addr" ] || { cat "$bench_tmp/awssim.log" >&2; echo "cbq-awssim did not start" >&2; exit 1; }
	sim_url=http://$addr
	export AWS_ENDPOINT_URL=$sim_url AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
	export AWS_ACCESS_KEY_ID=AKIABENCHBROKER00001
	export AWS_SECRET_ACCESS_KEY=benchBrokerSecretKey00000000000000000001
}

# bench_cbqd [FLAG VALUE]...: cbqd serve with mTLS and dev auth on a free
# port, waits for /readyz; sets cbqd_pid, cbqd_url, cbqd_log.
bench_cbqd() {
	"$here/tests/integration/gen-certs" "$bench_tmp/certs" >/dev/null 2>&1
	local port _i
	port=$(bench_free_port)
	cbqd_url=https://127.0.0.1:$port
	cbqd_log=$bench_tmp/cbqd.log
	"$bin/cbqd" serve --db "$conninfo" --listen "127.0.0.1:$port" \
		--tls-cert "$bench_tmp/certs/server.pem" --tls-key "$bench_tmp/certs/server.key" \
		--client-ca "$bench_tmp/certs/ca.pem" --insecure-dev-auth "$@" >"$cbqd_log" 2>&1 &
	cbqd_pid=$!
	bench_pids+=("$cbqd_pid")
	for _i in $(seq 200); do
		curl -sf --cacert "$bench_tmp/certs/ca.pem" "$cbqd_url/readyz" >/dev/null 2>&1 && return 0
		kill -0 "$cbqd_pid" 2>/dev/null || break
		sleep 0.05
	done
	tail -n 30 "$cbqd_log" >&2
	echo "cbqd did not become ready" >&2
	exit 1
}

bench_metrics() {
	curl -sf --cacert "$bench_tmp/certs/ca.pem" "$cbqd_url/metrics"
}

# bench_quantile FAMILY Q < metrics: the Q quantile of a histogram's
# buckets in ms, interpolated inside the bucket as Prometheus's
# histogram_quantile does; "nan" when it has no observations.
bench_quantile() {
	awk -v fam="$1_bucket" -v q="$2" '
	index($0, fam "{") == 1 {
		le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le)
		n++; bound[n] = (le == "+Inf") ? -1 : le + 0; cum[n] = $NF + 0
	}
	END {
		if (n == 0 || cum[n] == 0) { print "nan"; exit }
		rank = q * cum[n]; prev_b = 0; prev_c = 0
		for (i = 1; i <= n; i++) {
			if (cum[i] >= rank) {
				if (bound[i] < 0) { printf "%.2f\n", prev_b * 1000; exit }
				w = cum[i] - prev_c
				v = prev_b + (w > 0 ? (bound[i] - prev_b) * (rank - prev_c) / w : 0)
				printf "%.2f\n", v * 1000; exit
			}
			prev_b = bound[i]; prev_c = cum[i]
		}
	}'
}

# bench_value NAME < metrics: the value of an unlabelled series (0 when absent).
bench_value() {
	awk -v name="$1" '$1 == name { v = $2 } END { print (v == "" ? 0 : v) }'
}
