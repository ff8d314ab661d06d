#!/usr/bin/env python3
"""A library self-check kiosk played by an independent SIP2 client: the `sip2` package from PyPI
(module Sip2, by Tobias Zeumer), not our code. Logs in with a JoinIn libraryKiosk terminal's id and
API key, checks the ACS status and the patron, checks an item out and reads it back; with
--round-trip it also renews, returns and ends the session. Exits non-zero on any unexpected answer.

Usage: sip2-kiosk.py HOST PORT TERMINAL_ID API_KEY CARD_NUMBER PIN ITEM_BARCODE [--round-trip]"""
import logging
import sys

from Sip2.sip2 import Sip2


def main(argv):
    host, port, terminal, key, card, pin, item = argv[1:8]
    round_trip = "--round-trip" in argv
    sip = Sip2()
    sip.hostName, sip.hostPort, sip.tlsEnable, sip.socketTimeout = host, int(port), False, 10
    sip.institutionId, sip.scLocation, sip.patron, sip.patronpwd = "joinin", "kiosk", card, pin
    # The client would otherwise log every request, API key and PIN included, to ./sip2.log.
    sip.log = logging.getLogger("sip2-kiosk")
    sip.log.addHandler(logging.NullHandler())
    sip.log.propagate = False
    sip.connect()

    def ask(request, parse, what):
        response = sip.get_response(request)
        parsed = parse(response)
        print(f"{what}: {response.strip()}")
        return parsed

    login = ask(sip.sip_login_request(terminal, key), sip.sip_login_response, "login")
    assert login["fixed"]["Ok"] == "1", "login refused"
    status = ask(sip.sip_sc_status_request(), sip.sip_sc_status_response, "sc status")
    assert status["fixed"]["OnlineStatus"] == "Y", "ACS offline"
    patron = ask(sip.sip_patron_status_request(), sip.sip_patron_status_response, "patron status")
    assert patron["variable"]["BL"][0] == "Y" and patron["variable"]["CQ"][0] == "Y", "patron or PIN not valid"
    checkout = ask(sip.sip_checkout_request(item), sip.sip_checkout_response, "checkout")
    assert checkout["fixed"]["Ok"] == "1", "checkout refused: %s" % checkout["variable"].get("AF")
    print(f"checked out {checkout['variable']['AJ'][0]}, due {checkout['variable']['AH'][0]}")
    info = ask(sip.sip_patron_information_request("charged"), sip.sip_patron_information_response, "patron information")
    assert item in info["variable"].get("AU", []), "the loan is not among the charged items"
    details = ask(sip.sip_item_information_request(item), sip.sip_item_information_response, "item information")
    assert details["fixed"]["CirculationStatus"] == "04", "the item is not charged"
    if round_trip:
        renew = ask(sip.sip_renew_request(item), sip.sip_renew_response, "renew")
        assert renew["fixed"]["Ok"] == "1", "renewal refused: %s" % renew["variable"].get("AF")
        checkin = ask(sip.sip_checkin_request(item), sip.sip_checkin_response, "checkin")
        assert checkin["fixed"]["Ok"] == "1", "return refused"
        again = ask(sip.sip_checkout_request("NO-SUCH-ITEM"), sip.sip_checkout_response, "checkout of an unknown item")
        assert again["fixed"]["Ok"] == "0" and again["variable"].get("AF"), "an unknown item was not refused with a message"
        end = ask(sip.sip_end_patron_session_request(), sip.sip_end_patron_session_response, "end session")
        assert end["fixed"]["EndSession"] == "Y"
    sip.disconnect()
    print("sip2 kiosk: ok")


if __name__ == "__main__":
    main(sys.argv)
