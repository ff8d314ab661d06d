#!/usr/bin/env python3
"""After the README tour: no secret or personal document number may appear in clear -- nor as a
plain SHA-256 -- in any column of any table of the SQLite database, nor in the server's log (run at
trace level). Secrets are taken from what the tour sent and received: passwords, PINs, passport,
tax and residence document numbers from its requests; tokens, API keys, activation and dynamic
codes from its output and its variables.

usage: scan-secrets.py DATABASE SERVER_LOG TOUR_SCRIPT TOUR_OUTPUT SECRETS_FILE
(SECRETS_FILE: one value per line, the first being the one-time admin password)
"""
import hashlib
import re
import sqlite3
import sys


def secrets_from(script: str, output: str, extra: list[str]) -> dict[str, str]:
    # Variables first: the named kinds below override their generic label.
    found: dict[str, str] = {value: "tour secret variable" for value in extra if len(value) >= 6}
    patterns = {
        "password": r'\\?"(?:password|new_password|current_password)\\?"\s*:\s*\\?"([^"\\$]{6,})\\?"',
        "PIN": r'\\?"pin\\?"\s*:\s*\\?"(\d{6})\\?"',
        "passport number": r'\\?"passport_number\\?"\s*:\s*\\?"([A-Z0-9]{6,})\\?"',
        "document number": r'\\?"number\\?"\s*:\s*\\?"((?:TAX|RP)[A-Z0-9-]+)\\?"',
    }
    for name, pattern in patterns.items():
        for value in re.findall(pattern, script):
            found[value] = name
    for value in re.findall(r'"activation_code"\s*:\s*"([A-Z0-9-]+)"', output):
        found[value] = "activation code"
        found[value.replace("-", "")] = "activation code (unformatted)"
    for value in re.findall(r'ji[stc]_[A-Za-z0-9_-]{20,}', output + "\n" + "\n".join(extra)):
        found[value] = "token or API key"
    return found


def main() -> int:
    database, log_path, script_path, output_path, extra_path = sys.argv[1:6]
    script = open(script_path, encoding="utf-8").read()
    output = open(output_path, encoding="utf-8").read()
    extra = [line.strip() for line in open(extra_path, encoding="utf-8") if line.strip()]
    # The first line is the one-time admin password: `joinin serve` shows it once on its console
    # by design (the only way to first sign in), so it is looked for in the tables only.
    console_only = extra[0] if extra else ""
    secrets = secrets_from(script, output, extra)
    kinds = set(secrets.values())
    for needed in ["password", "PIN", "passport number", "document number", "activation code", "token or API key"]:
        if needed not in kinds:
            print(f"scan: found no {needed} in the tour to look for; the scan would prove nothing")
            return 1
    needles = dict(secrets)
    for value, name in secrets.items():
        needles[hashlib.sha256(value.encode()).hexdigest()] = f"unkeyed SHA-256 of a {name}"

    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    problems = []
    cells = 0
    for table in tables:
        for row in connection.execute(f'SELECT * FROM "{table}"'):
            for value in row:
                if value is None:
                    continue
                text = value if isinstance(value, str) else str(value)
                cells += 1
                for needle, name in needles.items():
                    if needle in text:
                        problems.append(f"{table}: {name} stored in clear")
    replies = connection.execute("SELECT COUNT(*), SUM(body LIKE 'v1:%') FROM idempotency_keys").fetchone()
    if replies[0] == 0:
        problems.append("idempotency_keys is empty: the tour stored no replies, the scan proves nothing there")
    elif replies[0] != replies[1]:
        problems.append(f"idempotency_keys: {replies[0] - replies[1]} stored replies are not sealed")

    log = open(log_path, encoding="utf-8", errors="replace").read()
    for needle, name in secrets.items():
        if needle in log and needle != console_only:
            problems.append(f"server log: {name} appears")
    for problem in sorted(set(problems)):
        print("scan:", problem)
    print(f"scan: {len(secrets)} secrets looked for in {cells} stored values of {len(tables)} tables "
          f"({replies[0]} stored replies) and {log.count(chr(10))} log lines at trace level: "
          f"{'FOUND ' + str(len(set(problems))) if problems else 'none found'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
