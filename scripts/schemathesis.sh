#!/usr/bin/env bash
# Fuzzes a fresh `joinin serve` against its own OpenAPI document (/openapi.yaml) with Schemathesis,
# once per staff role, and fails when any run reports a failure.
#
# The server runs in a temporary directory (fresh SQLite store) on 127.0.0.1. The script takes the
# one-time admin password from the server's output, changes it, and creates through the API the
# fixtures that let the runs reach real logic: a branch, an employer (USCC 91350100M000100Y43,
# Ningbo 330200), a staff account of every role (the employer account bound to the employer, the
# bank clerk bound to the branch) and, through the normal workflow, one issued permit and one card
# (the first card number, 6230910000000000014, is the spec's example card number).
#
# Environment:
#   JOININ_BINARY            server binary (default <repo>/.build/debug/joinin)
#   JOININ_ST_PORT           port to try first (default 18093; another free port if taken)
#   JOININ_ST_MAX_EXAMPLES   --max-examples per operation and phase (default 40; about 2 minutes on 2 cores)
#   JOININ_ST_SEED           --seed (default 20261201)
#   JOININ_ST_WORKERS        --workers (default 1: Hypothesis is not thread-safe on Python 3.11)
#   JOININ_ST_ROLES          roles to run (default "admin employer permitOfficer bankClerk")
#   JOININ_ST_KEEP           1 keeps the temp directory (server log, st output, JUnit and HAR reports)
#   JOININ_ST_POSTGRES_URL   run against PostgreSQL instead of SQLite: a server URL such as
#                            postgres://postgres@127.0.0.1:55432/postgres (scripts/start-postgres.sh);
#                            the script creates a fresh database there and drops it afterwards
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${JOININ_BINARY:-$root/.build/debug/joinin}"
port="${JOININ_ST_PORT:-18093}"
max_examples="${JOININ_ST_MAX_EXAMPLES:-40}"
seed="${JOININ_ST_SEED:-20261201}"
workers="${JOININ_ST_WORKERS:-1}"
roles="${JOININ_ST_ROLES:-admin employer permitOfficer bankClerk}"
started_at=$SECONDS

[ -x "$binary" ] || { echo "schemathesis: no server binary at $binary (run swift build)" >&2; exit 1; }
if ! command -v st > /dev/null 2>&1; then
  echo "schemathesis: 'st' not found, installing schemathesis with pip"
  pip install --quiet schemathesis
fi
command -v python3 > /dev/null 2>&1 || { echo "schemathesis: python3 is needed" >&2; exit 1; }

work="$(mktemp -d)"
server=""
pg_database=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2> /dev/null || true
    wait "$server" 2> /dev/null || true
  fi
  if [ -n "$pg_database" ]; then
    psql "$JOININ_ST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" > /dev/null 2>&1 || true
  fi
  if [ "${JOININ_ST_KEEP:-0}" = 1 ]; then echo "schemathesis: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The default port if nothing listens on it, else one the kernel hands out.
port_taken() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }
if port_taken "$port"; then
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi

cd "$work"
# The store: a fresh SQLite file here, or a fresh database on the given PostgreSQL server. Passed
# through the environment (the flags' fallback) so an inherited JOININ_DATABASE_URL cannot leak in.
database_url="$work/joinin.sqlite"
if [ -n "${JOININ_ST_POSTGRES_URL:-}" ]; then
  command -v psql > /dev/null 2>&1 || { echo "schemathesis: psql is needed for JOININ_ST_POSTGRES_URL" >&2; exit 1; }
  pg_database="joinin_st_$$_$RANDOM"
  psql "$JOININ_ST_POSTGRES_URL" -qc "CREATE DATABASE $pg_database" > /dev/null
  database_url="$(python3 -c 'import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(url._replace(path="/" + sys.argv[2])))' "$JOININ_ST_POSTGRES_URL" "$pg_database")"
fi
JOININ_DATABASE_URL="$database_url" JOININ_KEYS="$work/joinin-keys/" JOININ_CARD_PREFIX=623091 \
  "$binary" serve --host 127.0.0.1 --port "$port" > serve.log 2>&1 &
server=$!
for _ in $(seq 1 150); do
  grep -q "JoinIn listening" serve.log 2> /dev/null && break
  kill -0 "$server" 2> /dev/null || { cat serve.log; echo "schemathesis: server exited" >&2; exit 1; }
  sleep 0.2
done
grep -q "JoinIn listening" serve.log || { cat serve.log; echo "schemathesis: server did not start" >&2; exit 1; }
base="http://127.0.0.1:$port"
otp="$(sed -n 's/^  one-time password: //p' serve.log)"
[ -n "$otp" ] || { cat serve.log; echo "schemathesis: no one-time password printed" >&2; exit 1; }

# api METHOD PATH TOKEN [JSON]: prints the response body; fails unless the status is 2xx.
api() {
  local method="$1" path="$2" token="$3" body="${4:-}" status
  local args=(-sS -o response.json -w '%{http_code}' -X "$method" "$base$path")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  status="$(curl "${args[@]}")"
  case "$status" in
    2??) cat response.json ;;
    *) echo "schemathesis: fixture $method $path answered $status: $(cat response.json)" >&2; return 1 ;;
  esac
}
# json FIELD: reads one member (dotted path) of the JSON on stdin.
json() { python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."): value = value[key]
print(value)' "$1"; }
sign_in() { api POST /v1/staff/sessions "" "{\"username\":\"$1\",\"password\":\"$2\"}" | json token; }

password="harbour lights 2026"
staff_password="quay side lanterns 7"
admin="$(sign_in admin "$otp")"
api POST /v1/staff/me/password "$admin" "{\"current_password\":\"$otp\",\"new_password\":\"$password\"}" > /dev/null
branch="$(api POST /v1/branches "$admin" '{"name":{"en":"Ningbo Harbour Branch","zh":"宁波港支行"},"city_code":"330200"}' | json id)"
employer_id="$(api POST /v1/employers "$admin" \
  '{"name":{"en":"Ningbo Harbour Tech","zh":"宁波港科技"},"uscc":"91350100M000100Y43","city_code":"330200"}' | json id)"
api POST /v1/staff "$admin" "{\"username\":\"st.employer\",\"password\":\"$staff_password\",\"role\":\"employer\",\"employer_id\":\"$employer_id\"}" > /dev/null
api POST /v1/staff "$admin" "{\"username\":\"st.officer\",\"password\":\"$staff_password\",\"role\":\"permitOfficer\"}" > /dev/null
api POST /v1/staff "$admin" "{\"username\":\"st.clerk\",\"password\":\"$staff_password\",\"role\":\"bankClerk\",\"branch_id\":\"$branch\"}" > /dev/null
api POST /v1/staff "$admin" "{\"username\":\"st.hrss\",\"password\":\"$staff_password\",\"role\":\"departmentClerk\",\"department\":\"hrss\"}" > /dev/null
employer="$(sign_in st.employer "$staff_password")"
officer="$(sign_in st.officer "$staff_password")"
clerk="$(sign_in st.clerk "$staff_password")"

# One permit and one card through the normal workflow, dated relative to today.
read -r contract_start contract_end < <(python3 -c 'import datetime
today = datetime.date.today()
print(today.isoformat(), today.replace(year=today.year + 2).isoformat())')
application="$(api POST /v1/permit-applications "$employer" "{\"person\":{\"passport_number\":\"ST1234567\",\"nationality\":\"DEU\",
  \"surname\":\"FIXTURE\",\"given_names\":\"Anna\",\"date_of_birth\":\"1990-04-12\",\"sex\":\"F\"},\"position\":\"Engineer\",
  \"category\":\"B\",\"contract_start\":\"$contract_start\",\"contract_end\":\"$contract_end\",
  \"documents\":[\"passport\",\"photo\",\"employment_contract\"]}" | json id)"
issued="$(api POST "/v1/permit-applications/$application/originals-verification" "$officer" \
  '{"checked_documents":["passport","photo","employment_contract"],"decision":"issue"}')"
permit_number="$(json permit.number <<< "$issued")"
letter="$(json permit.decision_letter_number <<< "$issued")"
card="$(api POST /v1/cards "$clerk" "{\"permit_number\":\"$permit_number\",\"decision_letter_number\":\"$letter\",\"passport_number\":\"ST1234567\"}" | json card_number)"
echo "schemathesis: server $base (store ${pg_database:-SQLite}); fixtures: branch $branch, employer $employer_id, permit $permit_number, card $card"

# With JOININ_ST_KEEP=1 every request and response is also kept (HAR) for inspection.
reports=junit
[ "${JOININ_ST_KEEP:-0}" = 1 ] && reports=junit,har
declare -A tokens=([admin]="$admin" [employer]="$employer" [permitOfficer]="$officer" [bankClerk]="$clerk")
summaries=()
failed=0
for role in $roles; do
  token="${tokens[$role]:-}"
  [ -n "$token" ] || { echo "schemathesis: unknown role $role" >&2; exit 2; }
  role_started=$SECONDS
  set +e
  # Business-rule 422s on schema-valid data are expected, hence no positive_data_acceptance.
  # DELETE (sign-out) and the password change would end or break the session of later calls.
  st run "$base/openapi.yaml" \
    -H "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance \
    --exclude-method DELETE --exclude-path /v1/staff/me/password \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$max_examples" --seed "$seed" --workers "$workers" \
    --generation-database none --no-color \
    --report "$reports" --report-dir "$work/reports-$role" \
    --report-junit-path "$work/junit-$role.xml" > "st-$role.log" 2>&1
  status=$?
  set -e
  seconds=$((SECONDS - role_started))
  verdict=0
  summary="$(python3 - "$work/junit-$role.xml" "$role" "$status" "$seconds" <<'PY'
import sys
import xml.etree.ElementTree as ET
path, role, status, seconds = sys.argv[1:]
INTERNAL = ("AST constructor recursion depth mismatch", "Inconsistent results", "FlakyStrategyDefinition", "Flaky")
try:
    root = ET.parse(path).getroot()
    cases = root.iter("testcase")
    total = failures = errors = internal = skipped = 0
    for case in cases:
        total += 1
        error = case.find("error")
        if case.find("failure") is not None:
            failures += 1
        elif error is not None:
            # Schemathesis/Hypothesis faults of their own (not a check of the API) do not fail the run.
            if any(marker in (error.text or "") for marker in INTERNAL):
                internal += 1
            else:
                errors += 1
        elif case.find("skipped") is not None:
            skipped += 1
    passed = total - failures - errors - internal - skipped
    # One JUnit test case per operation, plus one for the stateful phase.
    detail = f"{total} tests: {passed} passed, {failures} failed, {errors} errors, {skipped} skipped"
    if internal:
        detail += f", {internal} ignored Schemathesis-internal errors"
    ok = failures == 0 and errors == 0
except (OSError, ET.ParseError) as error:
    detail = f"no report ({error.__class__.__name__})"
    ok = False
print(f"schemathesis [{role}]: {'PASS' if ok else 'FAIL'} (st exit {status}): {detail} in {seconds}s")
sys.exit(0 if ok else 1)
PY
)" || verdict=1
  if [ "$verdict" -ne 0 ] || [ "$status" -ne 0 ]; then
    echo "----- st output for $role -----"
    cat "st-$role.log"
  fi
  [ "$verdict" -eq 0 ] || failed=1
  echo "$summary"
  summaries+=("$summary")
done

echo "===== schemathesis summary ($((SECONDS - started_at))s) ====="
printf '%s\n' "${summaries[@]}"
if grep -q "unhandled error" serve.log; then
  echo "schemathesis: the server logged $(grep -c "unhandled error" serve.log) unhandled errors (500):" >&2
  grep "unhandled error" serve.log | head -5 >&2
  failed=1
fi
if grep -qiE "panic|fatal error" serve.log; then
  echo "schemathesis: the server log reports a crash:" >&2
  grep -iE "panic|fatal error" serve.log | head -5 >&2
  failed=1
fi
kill -0 "$server" 2> /dev/null || { echo "schemathesis: the server is no longer running" >&2; failed=1; }
exit "$failed"
