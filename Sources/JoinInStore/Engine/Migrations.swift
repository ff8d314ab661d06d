/// Versioned schema migrations, applied in order, each once. Never edit a released migration:
/// add a new one. SQL here must run unchanged on SQLite and PostgreSQL (and on distributed
/// PostgreSQL-compatible engines): TEXT, BIGINT, no triggers, no engine-specific types.
/// Times are BIGINT Unix milliseconds; calendar dates TEXT `YYYY-MM-DD`; flags BIGINT 0/1.
import JoinInCore

struct Migration: Sendable {
    let version: Int64
    let name: String
    let statements: [String]
    /// Rewrites that need the data keys (re-keying digests, sealing), run after the statements
    /// in the same transaction.
    var rewrite: (@Sendable (StoreTx) async throws -> Void)? = nil
}

enum Migrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "foundation: reference data, staff, sessions, terminals, audit", statements: [
            """
            CREATE TABLE provinces (
                code TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL)
            """,
            """
            CREATE TABLE cities (
                code TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL,
                interoperable BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE branches (
                id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL,
                city_code TEXT NOT NULL REFERENCES cities(code), created_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE employers (
                id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL, uscc TEXT NOT NULL UNIQUE,
                city_code TEXT NOT NULL REFERENCES cities(code), created_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE staff (
                id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, role TEXT NOT NULL,
                employer_id TEXT REFERENCES employers(id), branch_id TEXT REFERENCES branches(id), department TEXT,
                must_change_password BIGINT NOT NULL, created_at_ms BIGINT NOT NULL, disabled_at_ms BIGINT)
            """,
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY, principal_kind TEXT NOT NULL, principal_id TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL, expires_at_ms BIGINT NOT NULL, revoked_at_ms BIGINT)
            """,
            "CREATE INDEX sessions_by_principal ON sessions (principal_kind, principal_id)",
            """
            CREATE TABLE terminals (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, binding_id TEXT,
                key_hash TEXT NOT NULL UNIQUE, created_at_ms BIGINT NOT NULL, revoked_at_ms BIGINT)
            """,
            """
            CREATE TABLE login_throttle (
                throttle_key TEXT PRIMARY KEY, failures BIGINT NOT NULL, locked_until_ms BIGINT NOT NULL,
                updated_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE counters (
                name TEXT PRIMARY KEY, value BIGINT NOT NULL)
            """,
            // The audit trail is several hash chains ("lanes"), each with a head row: concurrent
            // PostgreSQL transactions then rarely touch the same head, and the head lets
            // verification notice records cut off the end of a chain.
            """
            CREATE TABLE audit_log (
                lane BIGINT NOT NULL, sequence BIGINT NOT NULL, at_ms BIGINT NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL, outcome TEXT NOT NULL,
                detail TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (lane, sequence))
            """,
            "CREATE INDEX audit_log_by_time ON audit_log (at_ms, lane, sequence)",
            """
            CREATE TABLE audit_heads (
                lane BIGINT PRIMARY KEY, sequence BIGINT NOT NULL, hash TEXT NOT NULL)
            """,
            """
            INSERT INTO audit_heads (lane, sequence, hash) VALUES
                (0, 0, '\(AuditChain.genesisHash)'), (1, 0, '\(AuditChain.genesisHash)'), (2, 0, '\(AuditChain.genesisHash)'),
                (3, 0, '\(AuditChain.genesisHash)'), (4, 0, '\(AuditChain.genesisHash)'), (5, 0, '\(AuditChain.genesisHash)'),
                (6, 0, '\(AuditChain.genesisHash)'), (7, 0, '\(AuditChain.genesisHash)')
            """,
            """
            CREATE TABLE idempotency_keys (
                principal TEXT NOT NULL, idempotency_key TEXT NOT NULL, request_hash TEXT NOT NULL,
                status BIGINT NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL, created_at_ms BIGINT NOT NULL,
                PRIMARY KEY (principal, idempotency_key))
            """,
        ]),
        Migration(version: 2, name: "permits and cards", statements: [
            """
            CREATE TABLE persons (
                id TEXT PRIMARY KEY, passport_index TEXT NOT NULL UNIQUE, passport_enc TEXT NOT NULL,
                nationality TEXT NOT NULL, surname TEXT NOT NULL, given_names TEXT NOT NULL, chinese_name TEXT,
                date_of_birth TEXT NOT NULL, sex TEXT NOT NULL, permit_number TEXT NOT NULL UNIQUE,
                created_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE permit_applications (
                id TEXT PRIMARY KEY, employer_id TEXT NOT NULL REFERENCES employers(id), status TEXT NOT NULL,
                passport_index TEXT NOT NULL, passport_enc TEXT NOT NULL, mrz_enc TEXT,
                nationality TEXT NOT NULL, surname TEXT NOT NULL, given_names TEXT NOT NULL, chinese_name TEXT,
                date_of_birth TEXT NOT NULL, sex TEXT NOT NULL, position TEXT NOT NULL, category TEXT NOT NULL,
                contract_start TEXT NOT NULL, contract_end TEXT NOT NULL, documents TEXT NOT NULL,
                checked_documents TEXT, decision_reason TEXT, permit_id TEXT,
                created_by TEXT NOT NULL, created_at_ms BIGINT NOT NULL, decided_by TEXT, decided_at_ms BIGINT)
            """,
            "CREATE INDEX permit_applications_by_employer ON permit_applications (employer_id, created_at_ms)",
            "CREATE INDEX permit_applications_by_time ON permit_applications (created_at_ms)",
            """
            CREATE TABLE permits (
                id TEXT PRIMARY KEY, permit_number TEXT NOT NULL, person_id TEXT NOT NULL REFERENCES persons(id),
                application_id TEXT NOT NULL UNIQUE REFERENCES permit_applications(id),
                employer_id TEXT NOT NULL REFERENCES employers(id), position TEXT NOT NULL, category TEXT NOT NULL,
                valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, decision_letter_number TEXT NOT NULL UNIQUE,
                issued_by TEXT NOT NULL, issued_at_ms BIGINT NOT NULL,
                cancelled_at_ms BIGINT, cancelled_by TEXT, cancel_reason TEXT)
            """,
            "CREATE INDEX permits_by_number ON permits (permit_number, issued_at_ms)",
            "CREATE INDEX permits_by_time ON permits (issued_at_ms)",
            """
            CREATE TABLE cards (
                card_number TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id),
                permit_id TEXT NOT NULL REFERENCES permits(id), branch_id TEXT NOT NULL REFERENCES branches(id),
                status TEXT NOT NULL, pin_hash TEXT, replaces_card_number TEXT, replaced_by_card_number TEXT,
                financial_enabled_at_ms BIGINT, financial_documents_enc TEXT,
                issued_by TEXT NOT NULL, issued_at_ms BIGINT NOT NULL, status_changed_at_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX cards_by_person ON cards (person_id, issued_at_ms)",
        ]),
        Migration(version: 3, name: "e-card accounts, credential status lists, dynamic codes", statements: [
            "ALTER TABLE permits ADD COLUMN activation_code_enc TEXT",
            "ALTER TABLE permits ADD COLUMN activation_used_at_ms BIGINT",
            """
            CREATE TABLE cardholders (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL UNIQUE REFERENCES persons(id),
                permit_number TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL, password_changed_at_ms BIGINT NOT NULL)
            """,
            // One status entry per (permit, card) a credential was issued for; card_number is ''
            // for a credential issued before any card existed.
            """
            CREATE TABLE credential_status (
                list_id TEXT NOT NULL, idx BIGINT NOT NULL, permit_id TEXT NOT NULL REFERENCES permits(id),
                card_number TEXT NOT NULL, revoked BIGINT NOT NULL, revoked_at_ms BIGINT, created_at_ms BIGINT NOT NULL,
                PRIMARY KEY (list_id, idx))
            """,
            "CREATE UNIQUE INDEX credential_status_by_subject ON credential_status (permit_id, card_number)",
            "CREATE INDEX credential_status_by_card ON credential_status (card_number)",
            """
            CREATE TABLE redeemed_codes (
                nonce TEXT PRIMARY KEY, cardholder_id TEXT NOT NULL, redeemed_by TEXT NOT NULL,
                redeemed_at_ms BIGINT NOT NULL, expires_at_ms BIGINT NOT NULL)
            """,
        ]),
        // The double-entry ledger (DESIGN.md §6). Balances are stored on the account and updated in
        // the transaction that inserts the transfers; `joinin ledger verify` recomputes them.
        Migration(version: 4, name: "ledger", statements: [
            """
            CREATE TABLE ledger_accounts (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner_type TEXT NOT NULL, owner_id TEXT NOT NULL,
                currency TEXT NOT NULL DEFAULT 'CNY', may_go_negative BIGINT NOT NULL, debits_blocked BIGINT NOT NULL,
                posted_fen BIGINT NOT NULL, pending_debits_fen BIGINT NOT NULL, created_at_ms BIGINT NOT NULL,
                UNIQUE (owner_type, owner_id, kind))
            """,
            // The business objects transfers pay for: whoever posts registers its object here in
            // the same transaction, and verification checks every transfer points at one.
            """
            CREATE TABLE ledger_references (
                reference_type TEXT NOT NULL, reference_id TEXT NOT NULL, created_at_ms BIGINT NOT NULL,
                PRIMARY KEY (reference_type, reference_id))
            """,
            // Immutable: rows are only ever inserted. A reversal names the transfer it undoes (at most
            // one reversal each); a transfer that posts a hold names the hold (at most one each).
            """
            CREATE TABLE ledger_transfers (
                id TEXT PRIMARY KEY,
                debit_account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                credit_account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                amount_fen BIGINT NOT NULL, kind TEXT NOT NULL, reference_type TEXT NOT NULL, reference_id TEXT NOT NULL,
                reverses_transfer_id TEXT, hold_id TEXT, created_at_ms BIGINT NOT NULL,
                CHECK (amount_fen > 0), CHECK (debit_account_id <> credit_account_id))
            """,
            "CREATE INDEX ledger_transfers_by_debit ON ledger_transfers (debit_account_id, created_at_ms)",
            "CREATE INDEX ledger_transfers_by_credit ON ledger_transfers (credit_account_id, created_at_ms)",
            "CREATE INDEX ledger_transfers_by_reference ON ledger_transfers (reference_type, reference_id)",
            "CREATE UNIQUE INDEX ledger_transfers_by_reversed ON ledger_transfers (reverses_transfer_id)",
            "CREATE UNIQUE INDEX ledger_transfers_by_hold ON ledger_transfers (hold_id)",
            // Pending transfers: state pending → posted | voided, once.
            """
            CREATE TABLE ledger_holds (
                id TEXT PRIMARY KEY,
                debit_account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                credit_account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                amount_fen BIGINT NOT NULL, kind TEXT NOT NULL, reference_type TEXT NOT NULL, reference_id TEXT NOT NULL,
                state TEXT NOT NULL, expires_at_ms BIGINT NOT NULL, created_at_ms BIGINT NOT NULL, closed_at_ms BIGINT,
                CHECK (amount_fen > 0), CHECK (debit_account_id <> credit_account_id))
            """,
            "CREATE INDEX ledger_holds_by_state ON ledger_holds (state, expires_at_ms)",
            "CREATE INDEX ledger_holds_by_debit ON ledger_holds (debit_account_id, state)",
        ]),
        Migration(version: 5, name: "merchants and card payments", statements: [
            """
            CREATE TABLE merchants (
                id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL, category TEXT NOT NULL,
                city_code TEXT NOT NULL REFERENCES cities(code), created_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE payments (
                id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id), terminal_id TEXT NOT NULL,
                card_number TEXT NOT NULL, person_id TEXT NOT NULL, amount_fen BIGINT NOT NULL, refunded_fen BIGINT NOT NULL,
                merchant_reference TEXT NOT NULL, created_at_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX payments_by_merchant ON payments (merchant_id, created_at_ms)",
        ]),
            // Secrets no longer recoverable from a copy of the database (issue 8): token and API-key
        // digests and idempotency fingerprints become HMACs under the secret-digest key, stored
        // replies are sealed. Existing rows are re-keyed, not dropped, so sessions, terminals and
        // retries in flight keep working (docs/decisions.md §12).
        Migration(version: 6, name: "keyed secret digests, sealed stored replies, sweeper indexes", statements: [
            "CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at_ms)",
            "CREATE INDEX sessions_by_expiry ON sessions (expires_at_ms)",
            "CREATE INDEX login_throttle_by_time ON login_throttle (updated_at_ms)",
            // Attempt reservations in flight and their lease (AttemptRules).
            "ALTER TABLE login_throttle ADD COLUMN pending BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE login_throttle ADD COLUMN pending_until_ms BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX redeemed_codes_by_expiry ON redeemed_codes (expires_at_ms)",
        ], rewrite: { tx in try await tx.rekeyLegacySecrets() }),
        // Transit (issue 9): operators and their GTFS-Fares v2 versions, city caps, taps from
        // offline validators, the trips priced from them, the charges posted for them, and the
        // signed deny list. The unused `transitValidator` kind becomes `transitValidator`.
        Migration(version: 7, name: "transit: operators, fare versions, taps, trips, charges, deny list", statements: [
            """
            CREATE TABLE transit_operators (
                id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL,
                city_code TEXT NOT NULL REFERENCES cities(code), modes TEXT NOT NULL, cardholder_category_id TEXT,
                max_journey_seconds BIGINT NOT NULL, exit_without_entry TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE transit_fare_versions (
                id TEXT PRIMARY KEY, operator_id TEXT NOT NULL REFERENCES transit_operators(id), version BIGINT NOT NULL,
                valid_from_ms BIGINT NOT NULL, feed_json TEXT NOT NULL, feed_sha256 TEXT NOT NULL, summary TEXT NOT NULL,
                imported_by TEXT NOT NULL, created_at_ms BIGINT NOT NULL, UNIQUE (operator_id, version))
            """,
            "CREATE INDEX transit_fare_versions_by_time ON transit_fare_versions (operator_id, valid_from_ms)",
            """
            CREATE TABLE transit_city_caps (
                city_code TEXT NOT NULL REFERENCES cities(code), effective_from TEXT NOT NULL, daily_cap_fen BIGINT,
                weekly_cap_fen BIGINT, updated_at_ms BIGINT NOT NULL, PRIMARY KEY (city_code, effective_from))
            """,
            """
            CREATE TABLE transit_taps (
                terminal_id TEXT NOT NULL, sequence BIGINT NOT NULL, operator_id TEXT NOT NULL, city_code TEXT NOT NULL,
                person_id TEXT NOT NULL, card_number TEXT NOT NULL, fare_version_id TEXT NOT NULL, tapped_at_ms BIGINT NOT NULL,
                utc_offset_minutes BIGINT NOT NULL, kind TEXT NOT NULL, stop_id TEXT NOT NULL, route_id TEXT,
                cardholder_fare BIGINT NOT NULL, rider_category_id TEXT, max_journey_seconds BIGINT NOT NULL,
                exit_without_entry TEXT NOT NULL, service_week TEXT NOT NULL, batch_id TEXT NOT NULL, received_at_ms BIGINT NOT NULL,
                PRIMARY KEY (terminal_id, sequence))
            """,
            "CREATE INDEX transit_taps_by_unit ON transit_taps (person_id, city_code, service_week)",
            """
            CREATE TABLE transit_trips (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL, city_code TEXT NOT NULL, service_week TEXT NOT NULL,
                service_day TEXT NOT NULL, operator_id TEXT NOT NULL, kind TEXT NOT NULL, fare_version_id TEXT NOT NULL,
                entry_tap_id TEXT, exit_tap_id TEXT, from_stop_id TEXT, to_stop_id TEXT, route_id TEXT,
                started_at_ms BIGINT NOT NULL, ended_at_ms BIGINT NOT NULL, utc_offset_minutes BIGINT NOT NULL,
                fare_product_id TEXT, cardholder_fare BIGINT NOT NULL, full_fare_fen BIGINT NOT NULL, fare_fen BIGINT NOT NULL,
                charged_fen BIGINT NOT NULL, is_transfer BIGINT NOT NULL, cap_applied BIGINT NOT NULL,
                no_matching_rule BIGINT NOT NULL, priced_at_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX transit_trips_by_person ON transit_trips (person_id, started_at_ms, id)",
            "CREATE INDEX transit_trips_by_unit ON transit_trips (person_id, city_code, service_week)",
            """
            CREATE TABLE transit_charges (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL, operator_id TEXT NOT NULL REFERENCES transit_operators(id),
                city_code TEXT NOT NULL, service_day TEXT NOT NULL, service_week TEXT NOT NULL, kind TEXT NOT NULL,
                amount_fen BIGINT NOT NULL, wallet_fen BIGINT NOT NULL, debt_fen BIGINT NOT NULL, batch_id TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX transit_charges_by_unit ON transit_charges (person_id, city_code, service_week)",
            "CREATE INDEX transit_charges_by_operator_day ON transit_charges (operator_id, service_day)",
            """
            CREATE TABLE transit_deny_list (
                card_number TEXT PRIMARY KEY, person_id TEXT NOT NULL, reason TEXT NOT NULL, version BIGINT NOT NULL,
                listed_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE transit_deny_list_changes (
                version BIGINT PRIMARY KEY, card_number TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL,
                at_ms BIGINT NOT NULL)
            """,
            "ALTER TABLE terminals ADD COLUMN stop_id TEXT",
            "UPDATE terminals SET kind = 'transitValidator' WHERE kind = 'transitValidator'",
        ]),
        Migration(version: 8, name: "health: providers, policies, catalogues, enrolments, contributions, accumulators, settlements", statements: [
            """
            CREATE TABLE health_providers (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, tier BIGINT, city_code TEXT NOT NULL REFERENCES cities(code),
                name_en TEXT NOT NULL, name_zh TEXT NOT NULL, created_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE health_policies (
                city_code TEXT NOT NULL REFERENCES cities(code), year BIGINT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL,
                imported_by TEXT NOT NULL, created_at_ms BIGINT NOT NULL, PRIMARY KEY (city_code, year, version))
            """,
            """
            CREATE TABLE health_catalogues (
                city_code TEXT NOT NULL REFERENCES cities(code), version BIGINT NOT NULL, item_count BIGINT NOT NULL,
                imported_by TEXT NOT NULL, created_at_ms BIGINT NOT NULL, PRIMARY KEY (city_code, version))
            """,
            """
            CREATE TABLE health_catalogue_items (
                city_code TEXT NOT NULL, version BIGINT NOT NULL, code TEXT NOT NULL, name_en TEXT NOT NULL, name_zh TEXT NOT NULL,
                item_class TEXT NOT NULL, kind TEXT NOT NULL, unit TEXT NOT NULL, PRIMARY KEY (city_code, version, code))
            """,
            """
            CREATE TABLE health_enrolments (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), employer_id TEXT NOT NULL REFERENCES employers(id),
                permit_id TEXT NOT NULL REFERENCES permits(id), city_code TEXT NOT NULL REFERENCES cities(code), wage_fen BIGINT NOT NULL,
                insurances TEXT NOT NULL, start_month TEXT NOT NULL, end_month TEXT, end_reason TEXT, created_by TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL, ended_at_ms BIGINT)
            """,
            "CREATE INDEX health_enrolments_by_person ON health_enrolments (person_id, created_at_ms)",
            "CREATE INDEX health_enrolments_by_employer ON health_enrolments (employer_id, created_at_ms, id)",
            """
            CREATE TABLE health_contributions (
                person_id TEXT NOT NULL, month TEXT NOT NULL, insurance TEXT NOT NULL, enrolment_id TEXT NOT NULL REFERENCES health_enrolments(id),
                employer_id TEXT NOT NULL, city_code TEXT NOT NULL, base_fen BIGINT NOT NULL, employer_fen BIGINT NOT NULL,
                employee_fen BIGINT NOT NULL, personal_account_fen BIGINT NOT NULL, batch_id TEXT NOT NULL, created_at_ms BIGINT NOT NULL,
                PRIMARY KEY (person_id, month, insurance))
            """,
            """
            CREATE TABLE health_accumulators (
                person_id TEXT NOT NULL, year BIGINT NOT NULL, accumulator TEXT NOT NULL, amount_fen BIGINT NOT NULL,
                PRIMARY KEY (person_id, year, accumulator))
            """,
            """
            CREATE TABLE health_settlements (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL, card_number TEXT NOT NULL, provider_id TEXT NOT NULL REFERENCES health_providers(id),
                terminal_id TEXT NOT NULL, visit_type TEXT NOT NULL, tier BIGINT, insured_city TEXT NOT NULL, provider_city TEXT NOT NULL,
                policy_year BIGINT NOT NULL, policy_version BIGINT NOT NULL, catalogue_version BIGINT NOT NULL, amount_fen BIGINT NOT NULL,
                fund_fen BIGINT NOT NULL, personal_account_fen BIGINT NOT NULL, cash_fen BIGINT NOT NULL, cash_method TEXT NOT NULL,
                deductible_counted_fen BIGINT NOT NULL, detail_sealed TEXT NOT NULL, provider_reference TEXT NOT NULL,
                status TEXT NOT NULL, created_at_ms BIGINT NOT NULL, reversed_at_ms BIGINT, reversal_id TEXT)
            """,
            "CREATE INDEX health_settlements_by_person ON health_settlements (person_id, created_at_ms, id)",
            "CREATE INDEX health_settlements_by_provider ON health_settlements (provider_id, created_at_ms, id)",
            "UPDATE terminals SET kind = 'hospitalCounter' WHERE kind = 'medicalProvider'",
        ]),
        Migration(version: 9, name: "libraries: designated libraries, items, loans, holds, circulation settings", statements: [
            """
            CREATE TABLE libraries (
                id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL, city_code TEXT NOT NULL REFERENCES cities(code),
                address_en TEXT NOT NULL, address_zh TEXT NOT NULL, created_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE library_settings (
                city_code TEXT PRIMARY KEY REFERENCES cities(code), max_loans BIGINT NOT NULL, loan_days BIGINT NOT NULL,
                renewals_max BIGINT NOT NULL, hold_days BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE library_items (
                city_code TEXT NOT NULL, barcode TEXT NOT NULL, library_id TEXT NOT NULL REFERENCES libraries(id),
                location_library_id TEXT NOT NULL REFERENCES libraries(id), title TEXT NOT NULL, author TEXT NOT NULL, isbn TEXT NOT NULL,
                status TEXT NOT NULL, created_at_ms BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL, PRIMARY KEY (city_code, barcode))
            """,
            "CREATE INDEX library_items_by_library ON library_items (library_id, barcode)",
            """
            CREATE TABLE library_loans (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL, card_number TEXT NOT NULL, city_code TEXT NOT NULL, barcode TEXT NOT NULL,
                library_id TEXT NOT NULL REFERENCES libraries(id), terminal_id TEXT NOT NULL, checked_out_at_ms BIGINT NOT NULL,
                due_date TEXT NOT NULL, renewals BIGINT NOT NULL, returned_at_ms BIGINT, returned_library_id TEXT)
            """,
            "CREATE UNIQUE INDEX library_loans_one_open_per_item ON library_loans (city_code, barcode) WHERE returned_at_ms IS NULL",
            "CREATE INDEX library_loans_by_person ON library_loans (person_id, checked_out_at_ms, id)",
            """
            CREATE TABLE library_holds (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL, city_code TEXT NOT NULL, barcode TEXT NOT NULL, status TEXT NOT NULL,
                placed_at_ms BIGINT NOT NULL, ready_at_ms BIGINT, expires_on TEXT, pickup_library_id TEXT, closed_at_ms BIGINT)
            """,
            "CREATE INDEX library_holds_by_item ON library_holds (city_code, barcode, placed_at_ms)",
            "CREATE INDEX library_holds_by_person ON library_holds (person_id, placed_at_ms, id)",
        ]),
        Migration(version: 10, name: "venues: museums and scenic spots, reservations, entries", statements: [
            """
            CREATE TABLE venues (
                id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL, kind TEXT NOT NULL,
                city_code TEXT NOT NULL REFERENCES cities(code), address_en TEXT NOT NULL, address_zh TEXT NOT NULL,
                terms_json TEXT NOT NULL, created_at_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX venues_by_city ON venues (city_code, id)",
            """
            CREATE TABLE venue_reservations (
                id TEXT PRIMARY KEY, venue_id TEXT NOT NULL REFERENCES venues(id), person_id TEXT NOT NULL, day TEXT NOT NULL,
                slot BIGINT NOT NULL, status TEXT NOT NULL, created_at_ms BIGINT NOT NULL, closed_at_ms BIGINT)
            """,
            "CREATE INDEX venue_reservations_by_day ON venue_reservations (venue_id, day, status)",
            "CREATE INDEX venue_reservations_by_person ON venue_reservations (person_id, created_at_ms, id)",
            """
            CREATE TABLE venue_entries (
                id TEXT PRIMARY KEY, venue_id TEXT NOT NULL REFERENCES venues(id), person_id TEXT NOT NULL, day TEXT NOT NULL,
                at_ms BIGINT NOT NULL, source TEXT NOT NULL, terminal_id TEXT NOT NULL, sequence BIGINT, reservation_id TEXT,
                over_quota BIGINT NOT NULL, repeat_visit BIGINT NOT NULL, received_at_ms BIGINT NOT NULL)
            """,
            "CREATE UNIQUE INDEX venue_entries_by_gate_sequence ON venue_entries (terminal_id, sequence)",
            "CREATE INDEX venue_entries_by_day ON venue_entries (venue_id, day, person_id)",
            "CREATE INDEX venue_entries_by_person ON venue_entries (person_id, at_ms, id)",
        ]),
        // Partner merchants' offers (issue 12). A payment now records the offer it used, its
        // discount and how much of it refunds have given back; `amount_fen` stays what the card
        // paid, so the price is amount + discount and older payments read unchanged.
        Migration(version: 11, name: "offers: merchant groups, offers, discounts on payments, refunds, merchant staff", statements: [
            """
            CREATE TABLE merchant_groups (
                id TEXT PRIMARY KEY, name_en TEXT NOT NULL, name_zh TEXT NOT NULL, created_at_ms BIGINT NOT NULL)
            """,
            "ALTER TABLE merchants ADD COLUMN group_id TEXT REFERENCES merchant_groups(id)",
            "CREATE INDEX merchants_by_group ON merchants (group_id)",
            "ALTER TABLE staff ADD COLUMN merchant_id TEXT REFERENCES merchants(id)",
            """
            CREATE TABLE offers (
                id TEXT PRIMARY KEY, city_code TEXT NOT NULL REFERENCES cities(code), scope_type TEXT NOT NULL, scope_value TEXT NOT NULL,
                title_en TEXT NOT NULL, title_zh TEXT NOT NULL, terms_text_en TEXT NOT NULL, terms_text_zh TEXT NOT NULL,
                rules_json TEXT NOT NULL, funding TEXT NOT NULL, budget_fen BIGINT, discounted_fen BIGINT NOT NULL,
                uses BIGINT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, status TEXT NOT NULL,
                created_by TEXT NOT NULL, created_at_ms BIGINT NOT NULL, withdrawn_at_ms BIGINT,
                CHECK (discounted_fen >= 0), CHECK (budget_fen IS NULL OR discounted_fen <= budget_fen))
            """,
            "CREATE INDEX offers_by_city ON offers (city_code, status, valid_until)",
            "ALTER TABLE payments ADD COLUMN offer_id TEXT REFERENCES offers(id)",
            "ALTER TABLE payments ADD COLUMN discount_fen BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE payments ADD COLUMN discount_returned_fen BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX payments_by_offer_person ON payments (offer_id, person_id, created_at_ms)",
            "CREATE INDEX payments_by_person ON payments (person_id, created_at_ms, id)",
            """
            CREATE TABLE payment_refunds (
                id TEXT PRIMARY KEY, payment_id TEXT NOT NULL REFERENCES payments(id), merchant_id TEXT NOT NULL,
                terminal_id TEXT NOT NULL, amount_fen BIGINT NOT NULL, discount_returned_fen BIGINT NOT NULL,
                created_at_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX payment_refunds_by_payment ON payment_refunds (payment_id, created_at_ms)",
            "CREATE INDEX payment_refunds_by_merchant ON payment_refunds (merchant_id, created_at_ms, id)",
        ]),
        // One-card government services, local events and the e-card inbox (issue 13). Form values,
        // clerks' notes, outcome documents and message bodies are personal data: sealed.
        Migration(version: 12, name: "services: catalogue, requests; events, registrations; inbox", statements: [
            """
            CREATE TABLE service_catalogues (
                version BIGINT PRIMARY KEY, document TEXT NOT NULL, imported_by TEXT NOT NULL, imported_at_ms BIGINT NOT NULL)
            """,
            """
            CREATE TABLE service_requests (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL, department TEXT NOT NULL, service_code TEXT NOT NULL,
                catalogue_version BIGINT NOT NULL REFERENCES service_catalogues(version), status TEXT NOT NULL, resume_status TEXT,
                channel TEXT NOT NULL, form_sealed TEXT NOT NULL, documents_json TEXT NOT NULL, received_on TEXT NOT NULL,
                due_on TEXT NOT NULL, opened_by TEXT NOT NULL, outcome_sealed TEXT, certificate_jws TEXT,
                created_at_ms BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL, closed_at_ms BIGINT)
            """,
            "CREATE INDEX service_requests_by_queue ON service_requests (department, status, due_on, id)",
            "CREATE INDEX service_requests_by_person ON service_requests (person_id, created_at_ms, id)",
            """
            CREATE TABLE service_request_history (
                id TEXT PRIMARY KEY, request_id TEXT NOT NULL REFERENCES service_requests(id), at_ms BIGINT NOT NULL,
                actor TEXT NOT NULL, action TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, note_sealed TEXT)
            """,
            "CREATE INDEX service_request_history_by_request ON service_request_history (request_id, at_ms, id)",
            """
            CREATE TABLE events (
                id TEXT PRIMARY KEY, organizer_id TEXT NOT NULL REFERENCES staff(id), title_en TEXT NOT NULL, title_zh TEXT NOT NULL,
                description_en TEXT NOT NULL, description_zh TEXT NOT NULL, place_en TEXT NOT NULL, place_zh TEXT NOT NULL,
                city_code TEXT NOT NULL REFERENCES cities(code), terms_json TEXT NOT NULL, starts_at_ms BIGINT NOT NULL,
                ends_at_ms BIGINT NOT NULL, capacity BIGINT NOT NULL, waitlist_max BIGINT NOT NULL, confirmed BIGINT NOT NULL, waitlisted BIGINT NOT NULL,
                status TEXT NOT NULL, created_at_ms BIGINT NOT NULL, cancelled_at_ms BIGINT,
                CHECK (confirmed >= 0 AND confirmed <= capacity), CHECK (waitlisted >= 0 AND waitlisted <= waitlist_max))
            """,
            "CREATE INDEX events_by_city ON events (city_code, starts_at_ms, id)",
            "CREATE INDEX events_by_organizer ON events (organizer_id, starts_at_ms, id)",
            """
            CREATE TABLE event_registrations (
                id TEXT PRIMARY KEY, event_id TEXT NOT NULL REFERENCES events(id), person_id TEXT NOT NULL, status TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL, promoted_at_ms BIGINT, checked_in_at_ms BIGINT,
                check_in_terminal TEXT)
            """,
            "CREATE UNIQUE INDEX event_registrations_one_active ON event_registrations (event_id, person_id) WHERE status IN ('confirmed', 'waitlisted')",
            "CREATE INDEX event_registrations_by_event ON event_registrations (event_id, status, created_at_ms, id)",
            "CREATE INDEX event_registrations_by_person ON event_registrations (person_id, created_at_ms, id)",
            """
            CREATE TABLE inbox_messages (
                id TEXT PRIMARY KEY, person_id TEXT NOT NULL, kind TEXT NOT NULL, title_en TEXT NOT NULL, title_zh TEXT NOT NULL,
                body_sealed TEXT NOT NULL, link_type TEXT, link_id TEXT, dedupe_key TEXT, created_at_ms BIGINT NOT NULL, read_at_ms BIGINT)
            """,
            "CREATE INDEX inbox_messages_by_person ON inbox_messages (person_id, created_at_ms, id)",
            "CREATE UNIQUE INDEX inbox_messages_dedupe ON inbox_messages (person_id, dedupe_key)",
            "CREATE INDEX inbox_messages_by_time ON inbox_messages (created_at_ms)",
        ]),
        // Binds a database to its keys directory (issue 14, replicas): a process started with
        // other keys refuses to start instead of sealing data no other replica can open.
        Migration(version: 13, name: "key check: the database remembers which keys it was set up with", statements: [
            "CREATE TABLE key_check (id INTEGER PRIMARY KEY, digests TEXT NOT NULL, sealed TEXT NOT NULL, created_at_ms BIGINT NOT NULL)",
        ]),
        Migration(version: 14, name: "ledger: balance deltas, so branch vaults are no hot row (docs/decisions.md §22)", statements: [
            """
            CREATE TABLE ledger_balance_deltas (
                id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                delta_fen BIGINT NOT NULL, created_at_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX ledger_balance_deltas_account ON ledger_balance_deltas (account_id, delta_fen)",
        ]),
        // Only reversals have a reversed transfer and only hold captures a hold: the two unique
        // indexes held a NULL entry for every other transfer, two index insertions per posting
        // that no query reads (`WHERE column = ?` implies NOT NULL, so lookups still use them).
        Migration(version: 15, name: "ledger: the reversal and hold keys index only the transfers that have one", statements: [
            "DROP INDEX ledger_transfers_by_reversed",
            "CREATE UNIQUE INDEX ledger_transfers_by_reversed ON ledger_transfers (reverses_transfer_id) WHERE reverses_transfer_id IS NOT NULL",
            "DROP INDEX ledger_transfers_by_hold",
            "CREATE UNIQUE INDEX ledger_transfers_by_hold ON ledger_transfers (hold_id) WHERE hold_id IS NOT NULL",
        ]),
        // The latest permit of a number (every authenticated e-card read) is ordered by
        // (issued_at_ms, id): with id in the index, SQLite reads it off the index instead of
        // sorting into a temporary b-tree on every call.
        Migration(version: 16, name: "permits: the by-number index gives the latest permit without a sort", statements: [
            "DROP INDEX permits_by_number",
            "CREATE INDEX permits_by_number ON permits (permit_number, issued_at_ms, id)",
        ]),
    ]
}

extension StoreTx {
    /// Migration 6's rewrite: every stored SHA-256 of a secret becomes HMAC(key, that hash).
    func rekeyLegacySecrets() async throws {
        for (table, column) in [("sessions", "token_hash"), ("terminals", "key_hash")] {
            let rows = try await sql.raw("SELECT \(unsafeRaw: column) AS digest FROM \(unsafeRaw: table)").all()
            for row in rows {
                let old = try row.decode(column: "digest", as: String.self)
                try await sql.raw("""
                    UPDATE \(unsafeRaw: table) SET \(unsafeRaw: column) = \(bind: cipher.keyedDigest(ofLegacyHex: old))
                    WHERE \(unsafeRaw: column) = \(bind: old)
                    """).run()
            }
        }
        let replies = try await sql.raw("SELECT principal, idempotency_key, request_hash, body FROM idempotency_keys").all()
        for row in replies {
            let principal = try row.decode(column: "principal", as: String.self)
            let key = try row.decode(column: "idempotency_key", as: String.self)
            let sealed = try seal(try row.decode(column: "body", as: String.self), column: Self.idempotencyColumn(principal: principal, key: key))
            try await sql.raw("""
                UPDATE idempotency_keys SET request_hash = \(bind: legacyRequestFingerprint(sha256Hex: try row.decode(column: "request_hash", as: String.self))),
                    body = \(bind: sealed)
                WHERE principal = \(bind: principal) AND idempotency_key = \(bind: key)
                """).run()
        }
    }
}
