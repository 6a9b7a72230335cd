# HQ reports (hq/reports/export_pdf.py): the CJK font the PDF exports embed.
APT_PACKAGES += fonts-wqy-zenhei
