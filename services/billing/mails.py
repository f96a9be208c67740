"""The mails billing sends to a workshop's owner, in English and German (by the workshop's country)."""
from services.shared.mail import from_words

WORDS = {
    "access_ending": {
        "en": ("Your AOS access ends in less than 24 hours", [
            "Hello,", "{tariff}{for_vin} ends on {until} (UTC).", "Buy more time before then to go on without a "
            "break; what you bought stays yours until it ends."], "Buy more time"),
        "de": ("Ihr AOS-Zugang endet in weniger als 24 Stunden", [
            "Guten Tag,", "{tariff}{for_vin} endet am {until} (UTC).", "Kaufen Sie vorher Zeit nach, um ohne "
            "Unterbrechung weiterzuarbeiten; Gekauftes bleibt Ihnen bis zum Ende."], "Zeit nachkaufen"),
    },
    "invoice_issued": {
        "en": ("Invoice {number} from AOS: {gross} EUR", [
            "Hello,", "invoice {number} of {issued} is ready: {gross} EUR. {terms}",
            "You find it as a PDF among your invoices on the portal."], "Open my invoices"),
        "de": ("Rechnung {number} von AOS: {gross} EUR", [
            "Guten Tag,", "Rechnung {number} vom {issued} liegt bereit: {gross} EUR. {terms}",
            "Sie finden sie als PDF bei Ihren Rechnungen im Portal."], "Meine Rechnungen"),
    },
}


def mail(kind, to, country, link=None, **values):
    return from_words(WORDS, kind, to, country, link, **values)
