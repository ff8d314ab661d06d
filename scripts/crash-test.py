#!/usr/bin/env python3
"""Crash evidence for the ledger (issue 4): `joinin serve` on SQLite under concurrent money load
is killed with SIGKILL mid-load several times and restarted on the same files. Clients retry
whatever was in flight with the same Idempotency-Key once the server is back. At the end
`joinin ledger verify` and `joinin audit verify` must pass, every operation a client saw
acknowledged must be in the ledger exactly once (and nothing else), and every balance must equal
what the acknowledged operations add up to.

Usage: scripts/crash-test.py [--binary .build/debug/joinin] [--crashes 6] [--workers 8]
Standard library only; exit 0 on success, 1 with a one-line reason otherwise.
"""
import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(message):
    print(f"crash-test: FAILED: {message}", flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, work, port):
        self.binary, self.work, self.port = binary, work, port
        self.process = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(os.path.join(self.work, f"serve-{self.starts}.log"), "w")
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.port)], cwd=self.work,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            text = open(log.name).read()
            if "JoinIn listening" in text:
                return text
            if self.process.poll() is not None:
                fail(f"server exited on start {self.starts}: {text[-2000:]}")
            time.sleep(0.1)
        fail(f"server did not start within 60 s (start {self.starts})")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail("server did not stop on SIGTERM")


class Down(Exception):
    """The server did not answer: the outcome of the request is unknown."""


class Client:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, token=None, body=None, key=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if key:
            request.add_header("Idempotency-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null"), response.headers
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = {"raw": payload.decode(errors="replace")}
            return error.code, parsed, error.headers
        except (urllib.error.URLError, ConnectionError, socket.timeout, OSError) as error:
            raise Down(str(error)) from error

    def ok(self, method, path, token=None, body=None, key=None):
        status, payload, _ = self.call(method, path, token, body, key)
        if status // 100 != 2:
            fail(f"fixture {method} {path} answered {status}: {payload}")
        return payload


def fixtures(client, otp):
    """Admin, branch, employer, officer, clerk, and four cardholders with financial functions."""
    password = "harbour lights 2026"
    staff_password = "quay side lanterns 7"
    admin = client.ok("POST", "/v1/staff/sessions", body={"username": "admin", "password": otp})["token"]
    client.ok("POST", "/v1/staff/me/password", admin, {"current_password": otp, "new_password": password})
    branch = client.ok("POST", "/v1/branches", admin, {"name": {"en": "Ningbo Harbour Branch", "zh": "宁波港支行"},
                                                       "city_code": "330200"})["id"]
    employer_id = client.ok("POST", "/v1/employers", admin, {"name": {"en": "Ningbo Harbour Tech", "zh": "宁波港科技"},
                                                             "uscc": "91350100M000100Y43", "city_code": "330200"})["id"]
    for username, extra in (("ct.employer", {"role": "employer", "employer_id": employer_id}),
                            ("ct.officer", {"role": "permitOfficer"}),
                            ("ct.clerk", {"role": "bankClerk", "branch_id": branch})):
        client.ok("POST", "/v1/staff", admin, {"username": username, "password": staff_password, **extra})
    sign_in = lambda name: client.ok("POST", "/v1/staff/sessions", body={"username": name, "password": staff_password})["token"]
    employer, officer, clerk = sign_in("ct.employer"), sign_in("ct.officer"), sign_in("ct.clerk")
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    until = f"{int(today[:4]) + 2}{today[4:]}".replace("-02-29", "-02-28")
    holders = []
    for index, (surname, given) in enumerate((("LARSEN", "Ingrid"), ("OKAFOR", "Chidi"), ("MORENO", "Lucia"), ("TANAKA", "Ken"))):
        passport = f"CT{index:07d}"
        documents = ["passport", "photo", "employment_contract"]
        application = client.ok("POST", "/v1/permit-applications", employer, {
            "person": {"passport_number": passport, "nationality": "DEU", "surname": surname, "given_names": given,
                       "date_of_birth": "1990-04-12", "sex": "F"},
            "position": "Engineer", "category": "B", "contract_start": today, "contract_end": until, "documents": documents})["id"]
        issued = client.ok("POST", f"/v1/permit-applications/{application}/originals-verification", officer,
                           {"checked_documents": documents, "decision": "issue"})
        permit = issued["permit"]
        card = client.ok("POST", "/v1/cards", clerk, {"permit_number": permit["number"],
                                                      "decision_letter_number": permit["decision_letter_number"],
                                                      "passport_number": passport})["card_number"]
        client.ok("POST", f"/v1/cards/{card}/activation", clerk, {"pin": "582931"})
        client.ok("POST", f"/v1/cards/{card}/financial-functions", clerk, {
            "tax_certificate": {"number": f"TAX-3302-{index:04d}", "issued_on": today},
            "residence_proof": {"kind": "residence_permit", "number": f"RP3302{index:04d}", "valid_until": until}})
        holder_password = "moonlit harbour walk"
        client.ok("POST", "/v1/ecard/registrations", body={"permit_number": permit["number"], "name": f"{surname} {given}",
                                                           "activation_code": issued["activation_code"], "password": holder_password})
        token = client.ok("POST", "/v1/ecard/sessions", body={"permit_number": permit["number"], "password": holder_password})["token"]
        holders.append({"card": card, "token": token})
    return admin, clerk, holders


class Load:
    """Worker threads moving money until told to stop; each remembers the request it had in
    flight when the server vanished and sends it again, same key and body, once it is back."""

    def __init__(self, client, clerk, holders, workers, seed):
        self.client, self.clerk, self.holders = client, clerk, holders
        self.workers = workers
        self.seed = seed
        self.lock = threading.Lock()
        self.acknowledged = {}  # operation id -> (debit, credit, amount)
        self.refused = {}
        self.replays = 0
        self.in_flight = [None] * workers
        self.sequence = [0] * workers
        self.errors = []

    def next_request(self, worker, rng):
        self.sequence[worker] += 1
        key = f"crash-{self.seed}-{worker}-{self.sequence[worker]}"
        card = rng.randrange(len(self.holders))
        if rng.random() < 0.4:
            amount = rng.randint(1, 100_000)
            account = rng.choice(["financial", "transitWallet"])
            place = ("financial" if account == "financial" else "wallet", card)
            return (f"/v1/cards/{self.holders[card]['card']}/deposits", self.clerk,
                    {"amount_fen": amount, "account": account}, key, (("vault", None), place, amount))
        other = (card + rng.randrange(1, len(self.holders))) % len(self.holders)
        amount = rng.randint(1, 2_000)
        return ("/v1/ecard/transfers", self.holders[card]["token"],
                {"to_card_number": self.holders[other]["card"], "amount_fen": amount, "memo": "crash test"}, key,
                (("financial", card), ("financial", other), amount))

    def run(self, worker, stop):
        rng = random.Random(self.seed * 1000 + worker)
        while not stop.is_set():
            request = self.in_flight[worker] or self.next_request(worker, rng)
            self.in_flight[worker] = request
            path, token, body, key, effect = request
            try:
                status, payload, headers = self.client.call("POST", path, token, body, key)
            except Down:
                return  # keep it in flight; retried after the restart
            if status in (409, 503) and payload.get("code") in ("idempotency.in_progress", "store.busy"):
                continue
            self.in_flight[worker] = None
            with self.lock:
                if status == 201:
                    operation = payload["operation_id"]
                    if headers.get("Idempotency-Replayed") == "true":
                        self.replays += 1
                    if operation in self.acknowledged:
                        self.errors.append(f"{key}: operation {operation} acknowledged twice")
                    self.acknowledged[operation] = effect
                elif status == 422:
                    self.refused[payload.get("code")] = self.refused.get(payload.get("code"), 0) + 1
                else:
                    self.errors.append(f"{path} answered {status}: {payload}")
                    return

    def burst(self, seconds):
        """Runs every worker until `seconds` pass or the server dies."""
        stop = threading.Event()
        threads = [threading.Thread(target=self.run, args=(worker, stop), daemon=True) for worker in range(self.workers)]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        return stop, threads


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.environ.get("JOININ_BINARY", os.path.join(ROOT, ".build/debug/joinin")))
    parser.add_argument("--crashes", type=int, default=6)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.crashes < 5:
        fail("--crashes must be at least 5")
    if not os.access(args.binary, os.X_OK):
        fail(f"no joinin binary at {args.binary} (build it first: swift build --product joinin)")

    work = tempfile.mkdtemp(prefix="joinin-crash-")
    server = Server(args.binary, work, free_port())
    client = Client(server.port)
    rng = random.Random(args.seed)
    started = time.time()
    try:
        log = server.start()
        otp = next((line.split(": ", 1)[1].strip() for line in log.splitlines() if line.startswith("  one-time password: ")), None)
        if not otp:
            fail("no one-time admin password printed")
        admin, clerk, holders = fixtures(client, otp)
        load = Load(client, clerk, holders, args.workers, args.seed)
        for crash in range(1, args.crashes + 1):
            stop, threads = load.burst(rng.uniform(1.0, 3.0))
            before = len(load.acknowledged)
            server.kill()  # SIGKILL while the workers are mid-request
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            if load.errors:
                fail(load.errors[0])
            pending = sum(1 for request in load.in_flight if request)
            print(f"crash-test: kill -9 #{crash}: {before} acknowledged so far, {pending} requests in flight", flush=True)
            server.start()
        # A last round after the final restart: every in-flight request is settled.
        stop, threads = load.burst(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        if load.errors:
            fail(load.errors[0])
        if any(load.in_flight):
            fail("requests still unsettled after the last restart")

        # Balances as the API reports them, against the acknowledged operations.
        expected = {}
        for debit, credit, amount in load.acknowledged.values():
            expected[debit] = expected.get(debit, 0) - amount
            expected[credit] = expected.get(credit, 0) + amount
        for index, holder in enumerate(holders):
            accounts = {item["kind"]: item["balance"]["amount_fen"]
                        for item in client.ok("GET", f"/v1/cards/{holder['card']}/accounts", clerk)["items"]}
            for kind, place in (("financial", ("financial", index)), ("transitWallet", ("wallet", index))):
                if accounts.get(kind, 0) != expected.get(place, 0):
                    fail(f"card {index} {kind} balance {accounts.get(kind)} != {expected.get(place, 0)} from acknowledged operations")
        vault = [item["balance"]["amount_fen"] for item in client.ok("GET", "/v1/system-accounts", admin)["items"]
                 if item["kind"] == "branchVault"]
        if vault != [expected.get(("vault", None), 0)]:
            fail(f"branch vault {vault} != {expected.get(('vault', None), 0)}")
        server.stop()

        database = os.path.join(work, "joinin.sqlite")
        keys = os.path.join(work, "joinin-keys") + "/"
        for command in (["ledger", "verify"], ["audit", "verify"]):
            result = subprocess.run([args.binary, *command, "--database", database, "--keys", keys],
                                    capture_output=True, text=True)
            print(f"crash-test: joinin {' '.join(command)}: {result.stdout.strip() or result.stderr.strip()}", flush=True)
            if result.returncode != 0:
                fail(f"joinin {' '.join(command)} exited {result.returncode}")
        with sqlite3.connect(database) as db:
            counts = dict(db.execute("SELECT reference_id, COUNT(*) FROM ledger_transfers GROUP BY reference_id"))
        wrong = [operation for operation in load.acknowledged if counts.get(operation) != 1]
        if wrong:
            fail(f"{len(wrong)} acknowledged operations not stored exactly once, e.g. {wrong[:3]}")
        extra = sum(counts.values()) - len(load.acknowledged)
        if extra != 0:
            fail(f"the ledger holds {extra} transfers no client saw acknowledged")
        print(f"crash-test: passed: {args.crashes} kill -9 crashes, {len(load.acknowledged)} acknowledged operations all stored "
              f"exactly once ({load.replays} answered by replay after a crash), refused {load.refused or 'none'}, "
              f"{time.time() - started:.0f} s", flush=True)
    finally:
        if server.process and server.process.poll() is None:
            server.process.kill()
        if args.keep:
            print(f"crash-test: kept {work}")
        else:
            subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
