# summary - the default: the HTML site, the PDF report and summary.json.
description = the HTML site, the PDF report and summary.json
html = yes
pdf = yes
archive = no
since_last_run = no
history = 0
