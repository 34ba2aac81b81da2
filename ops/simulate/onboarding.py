"""The firm on the first morning: reference data, market makers, the insurance fund, and
clients of every type onboarded with the evidence, assessments and disclosures their
products need. Professional-investor evidence is renewed before it is a year old."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial

from ops.simulate import broker, platform
from ops.simulate.accounts import SimulatedClient
from ops.simulate.market import ASSETS
from ops.simulate.timeline import DAY_MS, HOUR_MS, MINUTE_MS
from ops.simulate.world import World, text

MILLION = Decimal(1_000_000)
CLIENT_TYPES = ("individual", "corporation", "partnership", "trust_corporation", "institutional")
CLIENT_TYPE_WEIGHTS = (60, 15, 5, 5, 15)
MARKET_MAKERS = (("MM-AFF", "Harbour Liquidity Ltd (platform affiliate)", True),
                 ("MM-IND", "Kowloon Markets Ltd", False))
ALL_CONTROLS = {"information_barrier": True, "functional_independence": True,
                "conflict_monitoring": True, "client_priority": True}
EVIDENCE_RENEWAL_DAYS = 330
INSURANCE_FUND_START = Decimal(50) * MILLION


def reference_data(w: World) -> None:
    for spec in ASSETS:
        licensed_later = spec.symbol == "HKTD"  # its HKMA authorisation is recorded a minute later
        w.emit("AssetListed", {
            "asset": spec.symbol, "asset_kind": spec.kind, "retail_spot_approved": spec.retail_spot_approved,
            "iosco_compliant": spec.iosco_compliant, "hkma_licensed": spec.hkma_licensed and not licensed_later,
            "issuer": spec.issuer,
        }, "reference-data")
        if licensed_later:
            w.emit("AssetStatusChanged", {"asset": spec.symbol, "hkma_licensed": True}, "reference-data")
    for spec in ASSETS:
        if spec.cents:
            w.market.cents[spec.symbol] = spec.cents
            w.set_price(spec.symbol, spec.cents, "hkab" if spec.kind == "fiat" else "vatp-composite")
    for contract in platform.CONTRACTS:
        platform.list_contract(w, contract)
    platform.fund_change(w, INSURANCE_FUND_START, "initial capital")
    for mm_id, entity, affiliate in MARKET_MAKERS:
        w.emit("MarketMakerRegistered", {"mm_id": mm_id, "legal_entity": entity, "affiliate": affiliate,
                                         "controls": ALL_CONTROLS}, "compliance")
        w.market_makers[mm_id] = affiliate
        account = SimulatedClient(f"{mm_id}-ACC", "institutional", "professional", None, Decimal(0), None, mm_id=mm_id)
        onboard(w, account, knowledge=True, disclosures=("perpetuals",))
        account.contract = platform.CONTRACTS[0].contract_id
        w.mm_accounts.append(account)
        platform.deposit(w, account, "HKD", Decimal(2_000) * MILLION)


def onboard(w: World, c: SimulatedClient, *, knowledge: bool | None, disclosures: tuple[str, ...]) -> None:
    w.clients[c.client_id] = c
    w.emit("ClientOnboarded", {
        "client_id": c.client_id, "client_type": c.client_type, "investor_class": c.investor_class,
        "pi_assessment": evidence(c), "market_maker_id": c.mm_id,
    }, "kyc")
    if knowledge is not None:
        w.emit("DerivativesKnowledgeAssessed", {"client_id": c.client_id, "has_knowledge": knowledge,
                                                "basis": "training" if knowledge else "questionnaire"}, "kyc")
    for product in disclosures:
        w.emit("RiskDisclosureAcknowledged", {"client_id": c.client_id, "product": product,
                                              "version": "2026.1"}, "kyc")


def evidence(c: SimulatedClient) -> dict[str, str | None] | None:
    if c.assessed_on is None:
        return None
    return {"portfolio": text(c.portfolio), "total_assets": None if c.total_assets is None else text(c.total_assets),
            "assessed_on": c.assessed_on.isoformat()}


def new_client(w: World, number: int) -> SimulatedClient:
    rng = w.rng
    client_type = rng.choices(CLIENT_TYPES, CLIENT_TYPE_WEIGHTS)[0]
    professional = client_type == "institutional" or rng.random() < 0.6
    c = SimulatedClient(f"C{number:06d}", client_type, "professional" if professional else "retail",
               None, Decimal(0), None)
    if professional and client_type != "institutional":
        c.assessed_on = w.tl.day() - timedelta(days=rng.randint(20, 300))
        c.portfolio = Decimal(rng.randint(9, 90)) * MILLION
        if client_type in ("corporation", "partnership", "trust_corporation"):
            c.total_assets = Decimal(rng.randint(45, 900)) * MILLION
    c.trades_perps = professional and rng.random() < 0.75
    c.borrows = rng.random() < (0.5 if professional else 0.7)
    c.coverage_target = Decimal(rng.choice(("1.03", "1.05", "1.1", "1.2", "1.5", "2.5")))
    c.collateral = rng.choice(("BTC", "BTC", "ETH"))
    c.leverage = Decimal(rng.choice(("0.2", "0.3", "0.5", "0.7", "0.9", "0.95")))
    return c


def onboard_client(w: World, c: SimulatedClient) -> None:
    knowledge = True if c.trades_perps else (None if c.investor_class == "retail" else False)
    disclosures = (("perpetuals",) if c.trades_perps else ()) + (("va_financing",) if c.borrows else ())
    onboard(w, c, knowledge=knowledge, disclosures=disclosures)
    if c.borrows or w.chance(0.3):
        broker.open_account(w, c)
    if c.borrows:
        broker.start_borrowing(w, c)
    if c.trades_perps:
        platform.start_trading(w, c)
    if c.assessed_on is not None:
        due = (c.assessed_on + timedelta(days=EVIDENCE_RENEWAL_DAYS) - w.config.start).days * DAY_MS
        if due < w.config.days * DAY_MS:
            w.tl.at(max(due, w.tl.now_ms) + 10 * HOUR_MS, lambda: renew_evidence(w, c))


def renew_evidence(w: World, c: SimulatedClient) -> None:
    c.assessed_on = w.tl.day()
    w.emit("ClientReclassified", {"client_id": c.client_id, "investor_class": c.investor_class,
                                  "pi_assessment": evidence(c)}, "kyc")


def onboard_clients(w: World) -> None:
    """Clients arrive through the first hour, in number order."""
    spacing_ms = max(1, 50 * MINUTE_MS // w.config.clients)
    for number in range(1, w.config.clients + 1):
        w.tl.at(10 * MINUTE_MS + number * spacing_ms, partial(_arrive, w, number))


def _arrive(w: World, number: int) -> None:
    onboard_client(w, new_client(w, number))
