# archive - for keeping a finished sweep: the summary report plus a PDF per trial.
description = the HTML site, the PDF report, summary.json and a PDF per trial
html = yes
pdf = yes
archive = yes
since_last_run = no
history = 0
