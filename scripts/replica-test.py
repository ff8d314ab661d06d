#!/usr/bin/env python3
"""Replica evidence (issue 14): two `joinin serve` replicas over one PostgreSQL database, sharing
one keys directory, driven over real HTTP by concurrent money load — cash deposits, PIN
withdrawals, card-to-card transfers and wallet top-ups, each sent to a random replica, some sent
twice on purpose (once to each replica, at the same time or one after the other), and every
retry (lost connection, timeout, 5xx, 409 idempotency.in_progress, 503 store.busy, 429
auth.attempt_in_progress) sent to the OTHER replica with the same Idempotency-Key and body.

Phase 1: load over both replicas. Phase 2: the same, with replica B killed with SIGKILL at random
moments (twice by default) and restarted on the same port a second or two later. After each
phase and at the end (replicas stopped): `joinin ledger verify` and `joinin audit verify` pass;
every operation a client saw acknowledged is in the ledger exactly once with the transfers its
reply named, has one idempotency record and one audit record, and nothing else is there; no key
was executed twice (at most one un-replayed 2xx per key, all with the same operation id); every
balance, read through each replica, equals what the acknowledged operations add up to.

Usage: scripts/replica-test.py [--postgres-url postgres://…] [--require] [--binary .build/debug/joinin]
                               [--workers 12] [--phase-seconds 30] [--kills 2] [--seed N] [--keep]
The database `joinin_replica_<random>` is created on that server and dropped at the end.
Without a URL (flag or JOININ_TEST_POSTGRES_URL) it prints a skip line and exits 0, unless
--require. Standard library only (plus the `psql` client); exit 0 on success, 1 with
"replica-test: FAILED: <reason>" otherwise.
"""
import argparse
import collections
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIN = "582931"
MONEY_ACTIONS = ("money.deposit", "money.withdraw", "money.top_up", "money.transfer")


class Failure(Exception):
    pass


def fail(message):
    raise Failure(message)


def say(message):
    print(f"replica-test: {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """The given server, reached with `psql`; the test's own database is created and dropped here."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
            fail(f"--postgres-url must be postgres://user@host:port/database, got {url!r}")
        self.parts = parts
        query = urllib.parse.parse_qsl(parts.query)
        # joinin understands sslmode and schema; libpq (psql) only sslmode of the two.
        self.server_query = urllib.parse.urlencode([(k, v) for k, v in query if k != "schema"])
        self.psql_query = urllib.parse.urlencode([(k, v) for k, v in query if k == "sslmode"])
        self.name = None

    def url(self, database, for_psql=False):
        return urllib.parse.urlunsplit(self.parts._replace(
            path="/" + database, query=self.psql_query if for_psql else self.server_query, fragment=""))

    def run(self, sql, database=None):
        database = database or self.parts.path.lstrip("/") or "postgres"
        result = subprocess.run(["psql", self.url(database, for_psql=True), "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                                 "-c", sql], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            fail(f"psql {sql[:60]!r}: {result.stderr.strip()[:300]}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def create(self):
        self.name = f"joinin_replica_{secrets.token_hex(5)}"
        self.run(f"CREATE DATABASE {self.name}")
        return self.url(self.name)

    def query(self, sql):
        return self.run(sql, database=self.name)

    def drop(self):
        if not self.name:
            return
        try:
            self.run(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        except Failure as error:
            say(f"warning: could not drop database {self.name}: {error}")


class Server:
    """One `joinin serve` replica: its own working directory, the shared database and keys."""

    def __init__(self, name, binary, work, port, database, keys):
        self.name, self.binary, self.port, self.database, self.keys = name, binary, port, database, keys
        self.work = os.path.join(work, f"replica-{name}")
        os.makedirs(self.work)
        self.process = None
        self.starts = 0
        self.logs = []

    def start(self):
        self.starts += 1
        path = os.path.join(self.work, f"serve-{self.starts}.log")
        self.logs.append(path)
        log = open(path, "w")
        self.process = subprocess.Popen([self.binary, "serve", "--database", self.database, "--keys", self.keys,
                                         "--port", str(self.port)], cwd=self.work, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 90
        while time.time() < deadline:
            text = open(path).read()
            if "JoinIn listening" in text:
                return text
            if self.process.poll() is not None:
                fail(f"replica {self.name} exited on start {self.starts}: {text[-1500:]}")
            time.sleep(0.05)
        fail(f"replica {self.name} did not start within 90 s (start {self.starts})")

    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail(f"replica {self.name} did not stop within 30 s of SIGTERM")

    def error_lines(self, limit=8):
        lines = []
        for path in self.logs:
            for line in open(path, errors="replace"):
                if "error" in line.lower() or "critical" in line.lower():
                    lines.append(f"{os.path.basename(self.work)}/{os.path.basename(path)}: {line.rstrip()[:400]}")
        return lines[-limit:]


class Down(Exception):
    """The replica did not answer: the outcome of the request is unknown."""


def call(base, method, path, token=None, body=None, key=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if key:
        request.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = {"raw": payload.decode(errors="replace")[:500]}
        return error.code, parsed if isinstance(parsed, dict) else {"raw": parsed}, error.headers
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError) as error:
        raise Down(str(error)) from error


def ok(base, method, path, token=None, body=None):
    status, payload, _ = call(base, method, path, token, body)
    if status // 100 != 2:
        fail(f"fixture {method} {path} answered {status}: {payload}")
    return payload


def fixtures(a, b, otp):
    """Admin, branch, employer, officer, clerk and four cardholders with financial functions, as in
    crash-test.py; set up through replica A, the cardholders signed in through replica B."""
    password = "harbour lights 2026"
    staff_password = "quay side lanterns 7"
    admin = ok(a, "POST", "/v1/staff/sessions", body={"username": "admin", "password": otp})["token"]
    ok(a, "POST", "/v1/staff/me/password", admin, {"current_password": otp, "new_password": password})
    branch = ok(a, "POST", "/v1/branches", admin, {"name": {"en": "Ningbo Harbour Branch", "zh": "宁波港支行"},
                                                   "city_code": "330200"})["id"]
    employer_id = ok(a, "POST", "/v1/employers", admin, {"name": {"en": "Ningbo Harbour Tech", "zh": "宁波港科技"},
                                                         "uscc": "91350100M000100Y43", "city_code": "330200"})["id"]
    for username, extra in (("rt.employer", {"role": "employer", "employer_id": employer_id}),
                            ("rt.officer", {"role": "permitOfficer"}),
                            ("rt.clerk", {"role": "bankClerk", "branch_id": branch})):
        ok(a, "POST", "/v1/staff", admin, {"username": username, "password": staff_password, **extra})
    sign_in = lambda name: ok(a, "POST", "/v1/staff/sessions", body={"username": name, "password": staff_password})["token"]
    employer, officer, clerk = sign_in("rt.employer"), sign_in("rt.officer"), sign_in("rt.clerk")
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    until = f"{int(today[:4]) + 2}{today[4:]}".replace("-02-29", "-02-28")
    holders = []
    for index, (surname, given) in enumerate((("LARSEN", "Ingrid"), ("OKAFOR", "Chidi"), ("MORENO", "Lucia"), ("TANAKA", "Ken"))):
        passport = f"RT{index:07d}"
        documents = ["passport", "photo", "employment_contract"]
        application = ok(a, "POST", "/v1/permit-applications", employer, {
            "person": {"passport_number": passport, "nationality": "DEU", "surname": surname, "given_names": given,
                       "date_of_birth": "1990-04-12", "sex": "F"},
            "position": "Engineer", "category": "B", "contract_start": today, "contract_end": until, "documents": documents})["id"]
        issued = ok(a, "POST", f"/v1/permit-applications/{application}/originals-verification", officer,
                    {"checked_documents": documents, "decision": "issue"})
        permit = issued["permit"]
        card = ok(a, "POST", "/v1/cards", clerk, {"permit_number": permit["number"],
                                                  "decision_letter_number": permit["decision_letter_number"],
                                                  "passport_number": passport})["card_number"]
        ok(a, "POST", f"/v1/cards/{card}/activation", clerk, {"pin": PIN})
        ok(a, "POST", f"/v1/cards/{card}/financial-functions", clerk, {
            "tax_certificate": {"number": f"TAX-3302-{index:04d}", "issued_on": today},
            "residence_proof": {"kind": "residence_permit", "number": f"RP3302{index:04d}", "valid_until": until}})
        holder_password = "moonlit harbour walk"
        ok(a, "POST", "/v1/ecard/registrations", body={"permit_number": permit["number"], "name": f"{surname} {given}",
                                                       "activation_code": issued["activation_code"], "password": holder_password})
        token = ok(b, "POST", "/v1/ecard/sessions", body={"permit_number": permit["number"], "password": holder_password})["token"]
        holders.append({"card": card, "token": token})
    return admin, clerk, holders


class Load:
    """Worker threads moving money through both replicas. Every operation carries an
    Idempotency-Key; every retry goes to the other replica with the same key and body."""

    RETRYABLE = {(409, "idempotency.in_progress"), (503, "store.busy"), (429, "auth.attempt_in_progress")}

    def __init__(self, bases, clerk, holders, workers, seed):
        self.bases, self.clerk, self.holders, self.workers, self.seed = bases, clerk, holders, workers, seed
        self.lock = threading.Lock()
        self.keys = {}          # key -> {"request", "acks": [(operation, replayed, replica, transfer ids)], "phase"}
        self.operations = {}    # operation id -> key
        self.errors = []        # one line each: a broken rule or an unexpected answer
        self.server_errors = []  # 5xx other than 503 store.busy, with the evidence
        self.in_flight = [0, 0]
        self.sequence = [0] * workers
        self.phase = 0
        self.reset_stats()

    def reset_stats(self):
        self.stats = collections.Counter()
        self.refused = collections.Counter()
        self.retries = collections.Counter()
        self.latency = collections.defaultdict(list)

    def next_request(self, worker, rng):
        self.sequence[worker] += 1
        key = f"replica-{self.seed}-p{self.phase}-w{worker}-{self.sequence[worker]}"
        card = rng.randrange(len(self.holders))
        number, token = self.holders[card]["card"], self.holders[card]["token"]
        roll = rng.random()
        if roll < 0.35:
            amount = rng.randint(1, 100_000)
            account = "financial" if rng.random() < 0.75 else "transitWallet"
            place = ("financial" if account == "financial" else "wallet", card)
            return dict(kind="deposit", path=f"/v1/cards/{number}/deposits", token=self.clerk, key=key,
                        body={"amount_fen": amount, "account": account}, effect=(("vault", None), place, amount))
        if roll < 0.50:
            amount = rng.randint(1, 5_000)
            return dict(kind="withdrawal", path=f"/v1/cards/{number}/withdrawals", token=self.clerk, key=key,
                        body={"amount_fen": amount, "pin": PIN}, effect=(("financial", card), ("vault", None), amount))
        if roll < 0.85:
            other = (card + rng.randrange(1, len(self.holders))) % len(self.holders)
            amount = rng.randint(1, 2_000)
            return dict(kind="transfer", path="/v1/ecard/transfers", token=token, key=key,
                        body={"to_card_number": self.holders[other]["card"], "amount_fen": amount, "memo": "replica test"},
                        effect=(("financial", card), ("financial", other), amount))
        amount = rng.randint(1, 2_000)
        return dict(kind="top_up", path="/v1/ecard/wallet-top-ups", token=token, key=key, body={"amount_fen": amount},
                    effect=(("financial", card), ("wallet", card), amount))

    def send(self, request, replica):
        """Sends until the operation is settled (2xx or 422), each retry to the other replica."""
        deadline = time.time() + 150
        reason = None
        while True:
            with self.lock:
                self.stats["requests"] += 1
                self.stats[f"requests_{'AB'[replica]}"] += 1
                self.in_flight[replica] += 1
            previous = reason
            try:
                status, payload, headers = call(self.bases[replica], "POST", request["path"], request["token"],
                                                request["body"], request["key"])
                reason = None
            except Down:
                status, payload, headers, reason = None, {}, {}, "lost connection or timeout"
            finally:
                with self.lock:
                    self.in_flight[replica] -= 1
            code = payload.get("code") if isinstance(payload, dict) else None
            if status is not None and status // 100 == 2:
                replayed = headers.get("Idempotency-Replayed") == "true"
                # Sent once only: a replay after a lost connection means the lost attempt committed.
                if replayed and previous == "lost connection or timeout" and not request.get("duplicate"):
                    with self.lock:
                        self.stats["replayed_after_lost_answer"] += 1
                return "ok", (payload, replayed, replica)
            if status == 422 and not str(code).startswith("idempotency."):
                return "refused", code
            if status is not None:
                if (status, code) in self.RETRYABLE:
                    reason = f"{status} {code}"
                elif status >= 500:
                    reason = f"{status} {code or ''}".strip()
                    with self.lock:
                        self.server_errors.append(f"{request['kind']} {request['key']} on replica {'AB'[replica]} answered "
                                                  f"{status}: {json.dumps(payload)[:300]}")
                else:
                    return "error", f"{request['kind']} {request['key']} on replica {'AB'[replica]} answered {status}: {payload}"
            if time.time() > deadline:
                return "error", f"{request['kind']} {request['key']} not settled within 150 s (last: {reason})"
            with self.lock:
                self.retries[reason] += 1
            replica = 1 - replica  # the retry goes to the other replica, same key and body
            time.sleep(random.uniform(0.02, 0.15) if status is not None else random.uniform(0.05, 0.3))

    def record(self, request, outcome):
        kind, value = outcome
        with self.lock:
            entry = self.keys.setdefault(request["key"], {"request": request, "acks": [], "phase": self.phase})
            if kind == "ok":
                payload, replayed, replica = value
                operation = payload.get("operation_id")
                entry["acks"].append((operation, replayed, replica, payload.get("transfer_ids")))
                if replayed:
                    self.stats["replayed"] += 1
                known = self.operations.setdefault(operation, request["key"])
                if known != request["key"]:
                    self.errors.append(f"operation {operation} acknowledged for two keys: {known} and {request['key']}")
                operations = {ack[0] for ack in entry["acks"]}
                if len(operations) > 1:
                    self.errors.append(f"{request['key']} acknowledged as different operations {sorted(operations)}")
                if sum(1 for ack in entry["acks"] if not ack[1]) > 1:
                    self.errors.append(f"{request['key']} executed twice: two un-replayed 2xx answers {entry['acks']}")
            elif kind == "refused":
                self.refused[value] += 1
            else:
                self.errors.append(value)

    def run(self, worker, stop, rng):
        while not stop.is_set() and not self.errors:
            request = self.next_request(worker, rng)
            first = rng.randrange(2)
            roll = rng.random()
            with self.lock:
                self.stats["operations"] += 1
                self.stats[f"kind_{request['kind']}"] += 1
            request["duplicate"] = roll < 0.16
            began = time.time()
            if roll < 0.08:
                # The same request to both replicas at once.
                with self.lock:
                    self.stats["duplicates_concurrent"] += 1
                twin = threading.Thread(target=lambda: self.record(request, self.send(request, 1 - first)), daemon=True)
                twin.start()
                self.record(request, self.send(request, first))
                twin.join()
            elif roll < 0.16:
                # One after the other: the second copy must be answered from the idempotency record.
                with self.lock:
                    self.stats["duplicates_sequential"] += 1
                self.record(request, self.send(request, first))
                self.record(request, self.send(request, 1 - first))
            else:
                self.record(request, self.send(request, first))
            with self.lock:
                self.latency[request["kind"]].append(time.time() - began)

    def start(self, phase, seed):
        self.phase = phase
        self.reset_stats()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(worker, self.stop, random.Random(seed * 1000 + phase * 100 + worker)),
                                         daemon=True) for worker in range(self.workers)]
        self.started = time.time()
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        loaded = time.time() - self.started
        for thread in self.threads:
            thread.join(timeout=200)
        if any(thread.is_alive() for thread in self.threads):
            fail("workers did not settle their operations within 200 s of the end of the phase")
        return loaded, time.time() - self.started


def check(load, pg, binary, url, keys, label, bases, clerk, admin, holders):
    """The phase's evidence: ledger and audit verification, exactly-once in the database, balances."""
    if load.errors:
        fail(load.errors[0])
    if load.server_errors:
        fail(f"{len(load.server_errors)} server errors (5xx), first: {load.server_errors[0]}")
    for command in (["ledger", "verify"], ["audit", "verify"]):
        result = subprocess.run([binary, *command, "--database", url, "--keys", keys], capture_output=True, text=True, timeout=300)
        output = (result.stdout.strip() or result.stderr.strip()).replace("\n", " | ")
        say(f"{label}: joinin {' '.join(command)}: {output}")
        if result.returncode != 0:
            fail(f"{label}: joinin {' '.join(command)} exited {result.returncode}: {output[:300]}")

    acknowledged = {key: entry for key, entry in load.keys.items() if entry["acks"]}
    # Ledger: every acknowledged operation's transfers, exactly the ones its reply named; nothing else.
    stored = collections.defaultdict(list)
    for reference, transfer in pg.query("SELECT reference_id, id FROM ledger_transfers"):
        stored[reference].append(transfer)
    missing, wrong = [], []
    for key, entry in acknowledged.items():
        operation, _, _, transfer_ids = entry["acks"][0]
        found = stored.get(operation, [])
        if not found:
            missing.append(key)
        elif sorted(found) != sorted(transfer_ids or []) or len(found) != 1:
            wrong.append(f"{key}: stored {found}, acknowledged {transfer_ids}")
    if missing:
        fail(f"{label}: {len(missing)} acknowledged operations missing from the ledger, e.g. {missing[:3]}")
    if wrong:
        fail(f"{label}: {len(wrong)} acknowledged operations not stored exactly once, e.g. {wrong[:2]}")
    operations = {entry["acks"][0][0] for entry in acknowledged.values()}
    extra = [reference for reference in stored if reference not in operations]
    if extra:
        fail(f"{label}: the ledger holds {len(extra)} operations no client saw acknowledged, e.g. {extra[:3]}")
    # Idempotency records: one per acknowledged key, none for a key that was only ever refused.
    recorded = collections.Counter(row[0] for row in pg.query(
        f"SELECT idempotency_key FROM idempotency_keys WHERE idempotency_key LIKE 'replica-{load.seed}-%'"))
    if set(recorded) != set(acknowledged) or any(count != 1 for count in recorded.values()):
        only_db = sorted(set(recorded) - set(acknowledged))[:3]
        only_client = sorted(set(acknowledged) - set(recorded))[:3]
        fail(f"{label}: idempotency records differ from acknowledged keys (only stored: {only_db}, only acknowledged: {only_client})")
    # Audit: one success record per acknowledged operation (its detail names the operation).
    audited = collections.Counter()
    actions = ", ".join(f"'{action}'" for action in MONEY_ACTIONS)
    for (detail,) in pg.query(f"SELECT detail FROM audit_log WHERE action IN ({actions}) AND outcome = 'ok'"):
        if detail.startswith("operation="):
            audited[detail.split()[0][len("operation="):]] += 1
    if set(audited) != operations or any(count != 1 for count in audited.values()):
        fail(f"{label}: audit records do not match the acknowledged operations one to one "
             f"({sum(audited.values())} records for {len(audited)} operations, {len(operations)} acknowledged)")

    # Balances through each replica, against the acknowledged operations.
    expected = collections.Counter()
    for entry in acknowledged.values():
        debit, credit, amount = entry["request"]["effect"]
        expected[debit] -= amount
        expected[credit] += amount
    for replica, base in enumerate(bases):
        for index, holder in enumerate(holders):
            accounts = {item["kind"]: item["balance"]["amount_fen"]
                        for item in ok(base, "GET", f"/v1/cards/{holder['card']}/accounts", clerk)["items"]}
            for kind, place in (("financial", ("financial", index)), ("transitWallet", ("wallet", index))):
                if accounts.get(kind, 0) != expected[place]:
                    fail(f"{label}: replica {'AB'[replica]}: card {index} {kind} balance {accounts.get(kind)} != "
                         f"{expected[place]} from acknowledged operations")
        vault = [item["balance"]["amount_fen"] for item in ok(base, "GET", "/v1/system-accounts", admin)["items"]
                 if item["kind"] == "branchVault"]
        if vault != [expected[("vault", None)]]:
            fail(f"{label}: replica {'AB'[replica]}: branch vault {vault} != {expected[('vault', None)]}")
    say(f"{label}: {len(acknowledged)} acknowledged operations stored exactly once (ledger transfers, idempotency "
        f"records, audit records), balances of {len(holders)} cards and the vault equal to them on both replicas")


def summary(load, label, loaded, settled, kills):
    s = load.stats
    acknowledged = sum(1 for entry in load.keys.values() if entry["phase"] == load.phase and entry["acks"])
    kinds = ", ".join(f"{s[f'kind_{kind}']} {kind}s" for kind in ("deposit", "withdrawal", "transfer", "top_up"))
    retries = sum(load.retries.values())
    reasons = ", ".join(f"{count} after {reason}" for reason, count in load.retries.most_common()) or "none needed"
    refused = ", ".join(f"{count} {code}" for code, count in load.refused.most_common()) or "none"
    say(f"{label}: {s['operations']} operations in {loaded:.1f} s ({kinds}); {acknowledged} acknowledged, refused: {refused}")
    say(f"{label}: {s['requests']} HTTP requests (A {s['requests_A']}, B {s['requests_B']}); deliberate duplicates "
        f"{s['duplicates_concurrent']} concurrent + {s['duplicates_sequential']} sequential; {s['replayed']} answered from "
        f"idempotency records (Idempotency-Replayed; {s['replayed_after_lost_answer']} of them single requests whose first "
        f"answer was lost with the connection, the operation committed); {retries} cross-replica retries ({reasons}); {kills} kills")
    medians = ", ".join(f"{kind} {sorted(times)[len(times) // 2] * 1000:.0f} ms" for kind, times in sorted(load.latency.items()))
    say(f"{label}: median time to settle an operation (retries included): {medians}")
    say(f"{label}: throughput {acknowledged / loaded:.1f} acknowledged operations/s, {s['requests'] / loaded:.1f} requests/s "
        f"(all settled {settled - loaded:.1f} s after the load stopped)")
    return dict(operations=s["operations"], acknowledged=acknowledged, replayed=s["replayed"], retries=retries, kills=kills,
                rate=acknowledged / loaded)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.environ.get("JOININ_BINARY", os.path.join(ROOT, ".build/debug/joinin")))
    parser.add_argument("--postgres-url", default=os.environ.get("JOININ_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server to create the test database on (env JOININ_TEST_POSTGRES_URL)")
    parser.add_argument("--require", action="store_true", help="fail instead of skipping without a PostgreSQL URL")
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--phase-seconds", type=float, default=30.0, help="load per phase, seconds")
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs of replica B in phase 2")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory, logs and the database")
    args = parser.parse_args()
    if not args.postgres_url:
        if args.require:
            say("FAILED: no PostgreSQL: pass --postgres-url or set JOININ_TEST_POSTGRES_URL")
            return 1
        say("skipped: no PostgreSQL (pass --postgres-url or set JOININ_TEST_POSTGRES_URL)")
        return 0
    args.binary = os.path.abspath(args.binary)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**9)
    started = time.time()
    pg, work, replicas = None, None, []
    try:
        if shutil.which("psql") is None:
            fail("the psql client is needed (apt-get install postgresql-client)")
        if not os.access(args.binary, os.X_OK):
            fail(f"no joinin binary at {args.binary} (build it first: swift build --product joinin)")
        if args.workers < 2 or args.phase_seconds < 5 or args.kills < 1:
            fail("--workers must be at least 2, --phase-seconds at least 5, --kills at least 1")
        pg = Postgres(args.postgres_url)
        url = pg.create()
        work = tempfile.mkdtemp(prefix="joinin-replicas-")
        keys = os.path.join(work, "shared-keys") + "/"
        a = Server("A", args.binary, work, free_port(), url, keys)
        b = Server("B", args.binary, work, free_port(), url, keys)
        replicas = [a, b]
        say(f"database {pg.name} on {pg.parts.hostname}:{pg.parts.port or 5432}, replicas A :{a.port} and B :{b.port}, "
            f"shared keys {keys}, {args.workers} workers, seed {seed}")
        log = a.start()
        otp = next((line.split(": ", 1)[1].strip() for line in log.splitlines() if line.startswith("  one-time password: ")), None)
        if not otp:
            fail("replica A printed no one-time admin password")
        log = b.start()
        if "one-time password" in log or "created keys" in log:
            fail("replica B did not find the database's admin or the shared keys")
        bases = [f"http://127.0.0.1:{a.port}", f"http://127.0.0.1:{b.port}"]
        admin, clerk, holders = fixtures(bases[0], bases[1], otp)
        say(f"set up in {time.time() - started:.1f} s: admin, branch, employer, officer, clerk, {len(holders)} cardholders")
        load = Load(bases, clerk, holders, args.workers, seed)
        rng = random.Random(seed)
        results = []

        # Phase 1: both replicas up the whole time.
        load.start(1, seed)
        time.sleep(args.phase_seconds)
        loaded, settled = load.finish()
        results.append(summary(load, "phase 1", loaded, settled, 0))
        check(load, pg, args.binary, url, keys, "phase 1", bases, clerk, admin, holders)

        # Phase 2: replica B killed with SIGKILL at random moments, restarted on its port each time.
        slot = args.phase_seconds / args.kills
        moments = [slot * index + rng.uniform(0.2, 0.7) * slot for index in range(args.kills)]
        load.start(2, seed)
        for index, moment in enumerate(moments, 1):
            time.sleep(max(0.0, load.started + moment - time.time()))
            in_flight = load.in_flight[1]
            b.kill()
            say(f"phase 2: kill -9 replica B #{index} at {time.time() - load.started:.1f} s "
                f"({in_flight} requests in flight on it)")
            time.sleep(rng.uniform(1.0, 2.0))
            b.start()
            say(f"phase 2: replica B restarted (start {b.starts}) at {time.time() - load.started:.1f} s")
        time.sleep(max(0.0, load.started + args.phase_seconds - time.time()))
        loaded, settled = load.finish()
        results.append(summary(load, "phase 2", loaded, settled, args.kills))
        check(load, pg, args.binary, url, keys, "phase 2", bases, clerk, admin, holders)

        # The end: both replicas stopped, the database verified once more.
        for server in replicas:
            status = server.stop()
            if status != 0:
                fail(f"replica {server.name} exited {status} on SIGTERM")
        for command in (["ledger", "verify"], ["audit", "verify"]):
            result = subprocess.run([args.binary, *command, "--database", url, "--keys", keys], capture_output=True, text=True)
            if result.returncode != 0:
                fail(f"end: joinin {' '.join(command)} exited {result.returncode}: {(result.stdout + result.stderr)[:300]}")
        total = sum(1 for entry in load.keys.values() if entry["acks"])
        say(f"end: replicas stopped, ledger and audit verify pass; {total} acknowledged operations in all "
            f"({results[0]['acknowledged']} + {results[1]['acknowledged']}), {results[0]['replayed'] + results[1]['replayed']} "
            f"answered by replay, {results[0]['retries'] + results[1]['retries']} cross-replica retries, {args.kills} kills of "
            f"replica B; {results[0]['rate']:.1f} / {results[1]['rate']:.1f} acknowledged ops/s; {time.time() - started:.0f} s")
        say("OK")
        return 0
    except Failure as error:
        print(f"replica-test: FAILED: {error}", flush=True)
        for server in replicas:
            for line in server.error_lines():
                print(f"  {line}", flush=True)
        return 1
    finally:
        for server in replicas:
            if server.running():
                server.process.kill()
                server.process.wait()
        if args.keep:
            say(f"kept {work} and database {pg.name if pg else None}")
        else:
            if pg:
                pg.drop()
            if work:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
