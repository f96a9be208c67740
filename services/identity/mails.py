"""The mails identity sends, in English and German (by the workshop's country), plain text and HTML."""
from services.shared.mail import from_words, language

WORDS = {
    "verify": {
        "en": ("Confirm your email address for AOS", [
            "Hello {name},", "please confirm that this is your address: it is where AOS sends your invoices and "
            "security messages, and purchases need a confirmed address.", "The link works for 48 hours."],
            "Confirm my address"),
        "de": ("Bestätigen Sie Ihre E-Mail-Adresse für AOS", [
            "Hallo {name},", "bitte bestätigen Sie, dass dies Ihre Adresse ist: Hierhin schickt AOS Rechnungen und "
            "Sicherheitsmeldungen, und Käufe brauchen eine bestätigte Adresse.", "Der Link gilt 48 Stunden."],
            "Adresse bestätigen"),
    },
    "invitation": {
        "en": ("{inviter} invites you to {workshop} on AOS", [
            "Hello {name},", "{inviter} has invited you to {workshop} on AOS, the manufacturer's portal for repair "
            "information and programming, as {role}.", "Choose your password with the link below; it works for "
            "7 days. Then you set up your second factor."], "Join {workshop}"),
        "de": ("{inviter} lädt Sie zu {workshop} bei AOS ein", [
            "Hallo {name},", "{inviter} hat Sie zu {workshop} bei AOS eingeladen, dem Portal des Herstellers für "
            "Reparaturinformationen und Programmierung, als {role}.", "Wählen Sie Ihr Passwort mit dem Link unten; er "
            "gilt 7 Tage. Danach richten Sie Ihren zweiten Faktor ein."], "{workshop} beitreten"),
    },
    "password_reset": {
        "en": ("Reset your AOS password", [
            "Hello {name},", "someone (we hope you) asked to reset the password of your AOS account.",
            "The link works once, for 30 minutes. Using it signs you out everywhere; your second factor is still "
            "asked for at the next sign-in. If it was not you, ignore this mail: nothing changes."],
            "Choose a new password"),
        "de": ("Ihr AOS-Passwort zurücksetzen", [
            "Hallo {name},", "jemand (hoffentlich Sie) möchte das Passwort Ihres AOS-Kontos zurücksetzen.",
            "Der Link gilt einmal, 30 Minuten lang. Er meldet Sie überall ab; Ihr zweiter Faktor wird bei der "
            "nächsten Anmeldung weiter verlangt. Waren Sie es nicht, ignorieren Sie diese Mail: Nichts ändert sich."],
            "Neues Passwort wählen"),
    },
    "registered_again": {
        "en": ("Someone tried to register on AOS with your address", [
            "Hello {name},", "someone (perhaps you) tried to register a workshop on AOS with this address. It "
            "belongs to your account already, so nothing was registered.", "If it was you: sign in, or choose a "
            "new password if you forgot it. If it was not you, ignore this mail: nothing changes."], "Sign in"),
        "de": ("Jemand wollte sich mit Ihrer Adresse bei AOS registrieren", [
            "Hallo {name},", "jemand (vielleicht Sie) wollte mit dieser Adresse eine Werkstatt bei AOS registrieren. "
            "Sie gehört schon zu Ihrem Konto, also wurde nichts registriert.", "Waren Sie es: Melden Sie sich an, "
            "oder wählen Sie ein neues Passwort, wenn Sie es vergessen haben. Waren Sie es nicht, ignorieren Sie "
            "diese Mail: Nichts ändert sich."], "Anmelden"),
    },
    "new_sign_in": {
        "en": ("New sign-in to your AOS account", [
            "Hello {name},", "your account was signed in to from a browser or app it had not seen before, on {when} "
            "(UTC) from {address}.", "If that was you, there is nothing to do. If not, reset your password now and "
            "ask your workshop's owner to check your account."], None),
        "de": ("Neue Anmeldung bei Ihrem AOS-Konto", [
            "Hallo {name},", "Ihr Konto wurde von einem Browser oder einer App angemeldet, die es noch nicht kannte, "
            "am {when} (UTC) von {address}.", "Waren Sie das, ist nichts zu tun. Wenn nicht, setzen Sie jetzt Ihr "
            "Passwort zurück und bitten den Inhaber Ihrer Werkstatt, Ihr Konto zu prüfen."], None),
    },
}
ROLES = {"en": {"owner": "owner", "admin": "administrator", "technician": "technician"},
         "de": {"owner": "Inhaber", "admin": "Administrator", "technician": "Techniker"}}


def mail(kind, to, country, link=None, **values):
    """The mail of `kind` for `to`, in the workshop's language; `link` is its one action."""
    if "role" in values:
        values["role"] = ROLES[language(country)][values["role"]]
    return from_words(WORDS, kind, to, country, link, **values)
