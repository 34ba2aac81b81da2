"""How client, account and VA margin financing events change the book."""

from __future__ import annotations

from dataclasses import replace

from domain.book.book import Book
from domain.book.entities import Account, Client, PIEvidence, Pledge
from domain.events import (
    ClientOnboarded,
    ClientReclassified,
    CollateralHaircutChanged,
    CollateralPledged,
    CollateralReleased,
    CollateralTransferred,
    CreditLimitChanged,
    DerivativesKnowledgeAssessed,
    MarginCallIssued,
    MarginCallResolved,
    PIAssessment,
    RiskDisclosureAcknowledged,
    SecuritiesMarginAccountClosed,
    SecuritiesMarginAccountOpened,
    SecuritiesMarginPositionReported,
    VAFinancingDrawn,
    VAFinancingRepaid,
)

# A destination that keeps the collateral in the client's segregated custody position.
SEGREGATED = "segregated_custody"


def _evidence(assessment: PIAssessment | None) -> PIEvidence | None:
    if assessment is None:
        return None
    return PIEvidence(assessment.portfolio, assessment.total_assets, assessment.assessed_on)


def client_onboarded(book: Book, e: ClientOnboarded) -> None:
    book.clients.put(e.client_id, Client(
        e.client_id, e.client_type, e.investor_class, _evidence(e.pi_assessment), e.market_maker_id,
    ))


def client_reclassified(book: Book, e: ClientReclassified) -> None:
    client = book.edit_client(e.client_id)
    client.investor_class = e.investor_class
    client.pi_assessment = _evidence(e.pi_assessment)


def knowledge_assessed(book: Book, e: DerivativesKnowledgeAssessed) -> None:
    book.edit_client(e.client_id).has_knowledge = e.has_knowledge


def disclosure_acknowledged(book: Book, e: RiskDisclosureAcknowledged) -> None:
    client = book.edit_client(e.client_id)
    client.disclosures = client.disclosures | {e.product}


def account_opened(book: Book, e: SecuritiesMarginAccountOpened) -> None:
    book.edit_client(e.client_id).accounts[e.account_id] = Account(
        e.account_id, e.client_id, e.credit_limit
    )
    book.account_owner.put(e.account_id, e.client_id)


def _edit_account(book: Book, client_id: str, account_id: str) -> tuple[dict[str, Account], Account] | None:
    if book.account_owner.get(account_id) != client_id:
        return None  # validation refuses another client's account; a preview may not have
    accounts = book.edit_client(client_id).accounts
    return accounts, accounts[account_id]


def credit_limit_changed(book: Book, e: CreditLimitChanged) -> None:
    if (found := _edit_account(book, e.client_id, e.account_id)) is not None:
        accounts, account = found
        accounts[e.account_id] = replace(account, credit_limit=e.credit_limit)


def account_closed(book: Book, e: SecuritiesMarginAccountClosed) -> None:
    if (found := _edit_account(book, e.client_id, e.account_id)) is not None:
        accounts, account = found
        accounts[e.account_id] = replace(account, open=False)


def position_reported(book: Book, e: SecuritiesMarginPositionReported) -> None:
    if (found := _edit_account(book, e.client_id, e.account_id)) is not None:
        accounts, account = found
        accounts[e.account_id] = account.reported(e.marginable_value, e.loan_balance)


def collateral_pledged(book: Book, e: CollateralPledged) -> None:
    book.edit_client(e.client_id).pledges[e.pledge_id] = Pledge(
        e.pledge_id, e.client_id, e.asset, e.quantity, e.haircut
    )
    book.pledge_owner.put(e.pledge_id, e.client_id)


def _edit_pledge(book: Book, pledge_id: str) -> tuple[dict[str, Pledge], Pledge] | None:
    owner = book.pledge_owner.get(pledge_id)
    if owner is None:
        return None
    pledges = book.edit_client(owner).pledges
    return pledges, pledges[pledge_id]


def haircut_changed(book: Book, e: CollateralHaircutChanged) -> None:
    if (found := _edit_pledge(book, e.pledge_id)) is not None:
        pledges, pledge = found
        pledges[e.pledge_id] = replace(pledge, haircut=e.haircut)


def collateral_released(book: Book, e: CollateralReleased) -> None:
    if (found := _edit_pledge(book, e.pledge_id)) is not None:
        pledges, pledge = found
        pledges[e.pledge_id] = replace(pledge, quantity=pledge.quantity - e.quantity)


def collateral_transferred(book: Book, e: CollateralTransferred) -> None:
    if e.destination_kind == SEGREGATED:
        return  # still in the client's segregated custody: the pledge is unchanged
    if (found := _edit_pledge(book, e.pledge_id)) is not None:
        pledges, pledge = found
        pledges[e.pledge_id] = replace(pledge, quantity=pledge.quantity - e.quantity)


def financing_drawn(book: Book, e: VAFinancingDrawn) -> None:
    book.edit_client(e.client_id).loans[e.loan_id] = e.amount
    book.loan_owner.put(e.loan_id, e.client_id)


def financing_repaid(book: Book, e: VAFinancingRepaid) -> None:
    owner = book.loan_owner.get(e.loan_id)
    if owner is None:
        return
    loans = book.edit_client(owner).loans
    outstanding = loans[e.loan_id] - e.amount
    if outstanding > 0:
        loans[e.loan_id] = outstanding
    else:  # fully repaid: nothing more can happen to it
        del loans[e.loan_id]
        book.loan_owner.drop(e.loan_id)


def margin_call_issued(book: Book, e: MarginCallIssued) -> None:
    client = book.edit_client(e.client_id)
    client.open_calls = client.open_calls | {e.call_id}
    book.call_owner.put(e.call_id, e.client_id)


def margin_call_resolved(book: Book, e: MarginCallResolved) -> None:
    owner = book.call_owner.get(e.call_id)
    if owner is None:
        return
    client = book.edit_client(owner)
    client.open_calls = client.open_calls - {e.call_id}
    book.call_owner.drop(e.call_id)
