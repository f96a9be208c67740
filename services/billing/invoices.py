"""Invoices: a gapless number per year taken inside the purchase's transaction, the invoice's content frozen at
that moment, and its PDF rendered with fpdf2 and kept in object storage."""
import uuid

from sqlalchemy import update

from services.billing.models import Invoice, InvoiceSequence
from services.shared.database import insert_if_absent, new_id
from services.shared.pdf import FONT, document

PREFIX = "AOS"


def next_number(session, year):
    """The year's next number. The counter row is locked by the update until the purchase commits, so numbers
    are handed out in order; a purchase that rolls back gives its number back."""
    count = (update(InvoiceSequence).where(InvoiceSequence.year == year).values(last=InvoiceSequence.last + 1)
             .returning(InvoiceSequence.last))
    sequence = session.execute(count).scalar_one_or_none()
    if sequence is None:  # the year's first invoice: its counter opens (once, however many race for it)
        insert_if_absent(session, InvoiceSequence, year=year, last=0)
        sequence = session.execute(count).scalar_one()
    return sequence, f"{PREFIX}-{year}-{sequence:06d}"


def issue(session, billed_id, operator_id, lines, buyer, seller, price, now, terms=None):
    """The invoice for one purchase or shop order (`billed_id`); `terms` adds how it is to be paid."""
    sequence, number = next_number(session, now.year)
    invoice = Invoice(
        id=new_id(), number=number, year=now.year, sequence=sequence, operator_id=operator_id,
        purchase_id=billed_id, issued_at=now,
        seller={"name": seller.name, "address": seller.address, "vat_id": seller.vat_id, "country": seller.country},
        buyer={"name": " ".join(filter(None, [buyer.legal_name, buyer.legal_form])), "address": buyer.address,
               "vat_id": buyer.vat_id, "country": buyer.country},
        lines=lines, net_cents=price.net_cents, vat_cents=price.vat_cents, gross_cents=price.gross_cents,
        vat_rate=str(price.vat_rate), vat_treatment=price.treatment,
        note=" ".join(filter(None, [price.note, terms])) or None)
    session.add(invoice)
    return invoice


def credit_note(session, original, now):
    """Cancels an invoice with one of its own, numbered in the same sequence: the same lines and amounts,
    negative. Its billed id is derived from the original's, so it is issued once."""
    sequence, number = next_number(session, now.year)
    note = Invoice(
        id=new_id(), number=number, year=now.year, sequence=sequence, operator_id=original.operator_id,
        purchase_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"credit-note:{original.purchase_id}")), issued_at=now,
        seller=original.seller, buyer=original.buyer,
        lines=[dict(line, net_cents=-line["net_cents"]) for line in original.lines],
        net_cents=-original.net_cents, vat_cents=-original.vat_cents, gross_cents=-original.gross_cents,
        vat_rate=original.vat_rate, vat_treatment=original.vat_treatment,
        note=f"Credit note cancelling invoice {original.number} of {original.issued_at:%Y-%m-%d}.")
    session.add(note)
    return note


def pdf_key(invoice):
    return f"invoices/{invoice.year}/{invoice.number}.pdf"


def _money(cents):
    return f"{cents / 100:,.2f} EUR"


def render(invoice):
    """The invoice as a PDF: seller, buyer, number and date, the line, VAT or the reverse-charge note, totals."""
    title = f"{'Credit note' if invoice.gross_cents < 0 else 'Invoice'} {invoice.number}"
    pdf = document(title, invoice.seller["name"], invoice.issued_at)
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, f"Date: {invoice.issued_at:%Y-%m-%d}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for title, party in (("From", invoice.seller), ("To", invoice.buyer)):
        pdf.set_font(FONT, "B", 10)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=10)
        pdf.multi_cell(0, 5, "\n".join(filter(None, [party["name"], _address(party["address"]),
                                                    f"VAT id: {party['vat_id']}" if party["vat_id"] else None])))
        pdf.ln(3)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(120, 7, "Description", border="B")
    pdf.cell(20, 7, "Qty", border="B", align="R")
    pdf.cell(0, 7, "Net", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for line in invoice.lines:
        pdf.cell(120, 7, line["description"])
        pdf.cell(20, 7, str(line["quantity"]), align="R")
        pdf.cell(0, 7, _money(line["net_cents"]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = [("Net", invoice.net_cents)]
    if invoice.vat_cents:
        rows.append((f"VAT {invoice.vat_rate} %", invoice.vat_cents))
    rows.append(("Total", invoice.gross_cents))
    for label, cents in rows:
        pdf.set_font(FONT, "B" if label == "Total" else "", 10)
        pdf.cell(140, 7, label, align="R")
        pdf.cell(0, 7, _money(cents), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.note:
        pdf.ln(4)
        pdf.set_font(FONT, "I", 9)
        pdf.multi_cell(0, 5, invoice.note)
    return bytes(pdf.output())


def _address(address):
    if not address:
        return None
    if isinstance(address, str):
        return address
    return f"{address['street']}, {address['postal_code']} {address['city']}"


def view(invoice):
    return {"id": invoice.id, "number": invoice.number, "issued_at": invoice.issued_at,
            "purchase_id": invoice.purchase_id, "seller": invoice.seller, "buyer": invoice.buyer,
            "lines": invoice.lines, "net_cents": invoice.net_cents, "vat_cents": invoice.vat_cents,
            "vat_rate": invoice.vat_rate, "vat_treatment": invoice.vat_treatment, "gross_cents": invoice.gross_cents,
            "currency": "EUR", "note": invoice.note}
