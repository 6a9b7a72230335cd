# HQ reports (hq/reports/exports/pdf.py): the CJK font the PDF exports embed.
APT_PACKAGES += fonts-wqy-zenhei
