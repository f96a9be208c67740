"""PDF documents AOS writes (invoices, job reports) in one Unicode font, with fpdf2."""
import font_roboto
from fpdf import FPDF

FONT = "Roboto"
# Roboto (Apache 2.0), shipped by the font-roboto package: Latin with every European diacritic, Greek, Cyrillic
FONT_FILES = {"": font_roboto.Roboto, "B": font_roboto.RobotoBold, "I": font_roboto.RobotoItalic}


def document(title, author, when):
    """An A4 document with the font loaded: names in Polish, Czech, Greek, Bulgarian print whole."""
    pdf = FPDF(format="A4")
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT, style, path)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creation_date(when)
    pdf.add_page()
    return pdf
