"""Importing roster, shift, leave and planned-period files (CSV or XLSX): every row checked,
nothing written unless all are good; blank templates to fill in."""
