#!/usr/bin/env bash
# Runs the README's five-minute tour verbatim against a fresh server: starts `joinin serve` on a
# temp directory and port, takes the one-time admin password from its output, then executes the
# bash block between <!-- tour:begin --> and <!-- tour:end --> (its ADMIN_OTP line is replaced).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${JOININ_BINARY:-$root/.build/debug/joinin}"
port="${JOININ_TOUR_PORT:-18080}"
sip2port="${JOININ_TOUR_SIP2_PORT:-16001}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; [ -n "${JOININ_TOUR_KEEP:-}" ] || rm -rf "$work"' EXIT

cd "$work"
# Trace level: the secret scan below checks that not even the most verbose log carries a secret.
JOININ_LOG_LEVEL=trace "$binary" serve --port "$port" --sip2-port "$sip2port" > serve.log 2>&1 &
server=$!
for _ in $(seq 1 100); do
  grep -q "JoinIn listening" serve.log 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat serve.log; echo "tour: server exited"; exit 1; }
  sleep 0.2
done
otp="$(sed -n 's/^  one-time password: //p' serve.log)"
[ -n "$otp" ] || { cat serve.log; echo "tour: no one-time password printed"; exit 1; }

sed -n '/<!-- tour:begin -->/,/<!-- tour:end -->/p' "$root/README.md" | sed '1,2d;$d' | sed '$d' \
  | sed "s|^export ADMIN_OTP=.*|export ADMIN_OTP='$otp'|; s|^J=http://127.0.0.1:8080|J=http://127.0.0.1:$port|; s|swift run joinin |$binary |; s| docs/examples/| $root/docs/examples/|; s|python3 scripts/|python3 $root/scripts/|; s|127.0.0.1 6001|127.0.0.1 $sip2port|" > tour.sh
# The secrets the tour holds in variables, for the scan.
echo 'printf "%s\n" "$ADMIN_OTP" "$ADMIN" "$HR" "$OFFICER" "$CLERK" "$HOLDER" "$DESK" "$TILL" "$GATE" "$CODE" "$QR" "$QR2" "$WARD" "$RX" "$(echo "$KIOSK" | field "['"'"'api_key'"'"']")" "$TURNSTILE" "$QR3" "$SHOP" "$HRSS" "$QR4" "$ORGANIZER" "$HOLDER2" > tour.secrets' >> tour.sh
bash -euo pipefail tour.sh > tour.out 2>&1 || { cat tour.out; echo "tour: FAILED"; exit 1; }
grep -q '"financial_functions": true' tour.out || { cat tour.out; echo "tour: card did not get financial functions"; exit 1; }
grep -q 'card.enable_financial_functions' tour.out || { cat tour.out; echo "tour: audit trail incomplete"; exit 1; }
grep -q '^verdict: valid' tour.out || { cat tour.out; echo "tour: the credential did not verify offline"; exit 1; }
grep -q '"permit_status":"valid"' tour.out || { cat tour.out; echo "tour: the identity check failed"; exit 1; }
[ -s decision-letter.html ] || { echo "tour: no decision letter"; exit 1; }
kill -TERM "$server"
wait "$server" || true
"$binary" audit verify --database ./joinin.sqlite --keys ./joinin-keys/
"$binary" ledger verify --database ./joinin.sqlite --keys ./joinin-keys/
python3 "$root/scripts/scan-secrets.py" ./joinin.sqlite serve.log tour.sh tour.out tour.secrets
grep -q '"wallet_top_up"' tour.out || { cat tour.out; echo "tour: the top-up failed"; exit 1; }
grep -q '"card_transfer"' tour.out || { cat tour.out; echo "tour: the transfer failed"; exit 1; }
grep -q '"refund_id"' tour.out || { cat tour.out; echo "tour: the payment or refund failed"; exit 1; }
# 500.00 deposited − 20.00 top-up − 88.00 sent − 115.20 paid (128.00 less the 10% offer) + 42.00
# refunded = 318.80 CNY.
grep -q '"amount_fen": 31880' tour.out || { cat tour.out; echo "tour: the financial balance is not 318.80 CNY"; exit 1; }
grep -q '"transfer": true' tour.out || { cat tour.out; echo "tour: the bus ride was not a transfer"; exit 1; }
python3 - tour.out << 'PY' || { cat tour.out; echo "tour: the transit wallet is not 20.00 - 2.90"; exit 1; }
import re, sys
text = open(sys.argv[1]).read()
summary = text[text.rindex('"denied_at_gates"') - 400:]
assert re.search(r'"wallet": \{\s*"amount_fen": 1710', summary), summary
PY
# Medical insurance: 300.00 credited; the pharmacy's 63.00 and 237.00 of the stay from the personal
# account; the stay's fund share 2,275.45 (deductible 600.00, then 85%).
grep -q '"accepted": 1' tour.out || { cat tour.out; echo "tour: the contribution was not accepted"; exit 1; }
python3 - tour.out << 'PY' || { cat tour.out; echo "tour: the medical settlements are not as documented"; exit 1; }
import re, sys
text = open(sys.argv[1]).read()
stay = text[text.index('"provider_reference": "ADM-0001"'):]
assert re.search(r'"fund": \{\s*"amount_fen": 227545', stay), "fund"
assert re.search(r'"personal_account": \{\s*"amount_fen": 23700', stay), "personal account"
assert re.search(r'"cash": \{\s*"amount_fen": 76455', stay), "cash"
summary = text[text.rindex('"accumulators"'):]
assert re.search(r'"personal_account": \{\s*"amount_fen": 0,', summary), "personal account left"
PY
if python3 -c 'import fhir.resources' 2> /dev/null; then
  python3 "$root/scripts/check-fhir-eob.py" eob.json
elif [ -n "${JOININ_TOUR_REQUIRE_FHIR:-}" ]; then
  echo "tour: fhir.resources is not installed (pip install fhir.resources)"; exit 1
else
  echo "tour: FHIR validation skipped: the Python package fhir.resources is not installed"
fi
# Offers: 12.80 off the bookshop's 128.00; the refund of 42.00 gives 4.66 back to the budget; the
# shop's settlement agrees with the ledger.
python3 - tour.out << 'PY' || { cat tour.out; echo "tour: the bookshop offer is not as documented"; exit 1; }
import re, sys
text = open(sys.argv[1]).read()
assert re.search(r'"discount": \{\s*"amount_fen": 1280,', text), "discount"
assert re.search(r'"paid": \{\s*"amount_fen": 11520,', text), "paid"
assert re.search(r'"discount_returned": \{\s*"amount_fen": 466,', text), "discount returned"
net = re.search(r'"ledger_net": \{\s*"amount_fen": (-?\d+),[\s\S]*?"net": \{\s*"amount_fen": (-?\d+),', text)
assert net and net.group(1) == net.group(2) == str(12800 - 4200 - 466), net and net.groups()
PY
# Services and events: the certificate verified by joserfc (when installed), the waitlist promotion in his inbox.
grep -q '^check-certificate: \(valid\|skipped\)' tour.out || { cat tour.out; echo "tour: the contribution certificate did not verify"; exit 1; }
grep -q '"kind": "waitlist_promoted"' tour.out || { cat tour.out; echo "tour: the waitlist promotion did not reach the inbox"; exit 1; }
grep -q 'Social-insurance contribution certificate' certificate.html || { echo "tour: no printable certificate"; exit 1; }
grep -q '^sip2 kiosk: ok' tour.out || { cat tour.out; echo "tour: the SIP2 checkout failed"; exit 1; }
grep -q '"item_barcode": "TY000002"' tour.out || { cat tour.out; echo "tour: the e-card does not list the SIP2 loan"; exit 1; }
grep -q '"source": "qr"' tour.out || { cat tour.out; echo "tour: the museum entry by QR failed"; exit 1; }
grep -q '"remaining_today": 499' tour.out || { cat tour.out; echo "tour: the e-card does not show 499 entries left"; exit 1; }
echo "tour: passed ($(grep -c . tour.out) lines of output)"
