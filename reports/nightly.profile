# nightly - for a cron job while a sweep runs: the HTML site and summary.json,
# what changed since the last run, and the last 30 summaries in history/.
description = the HTML site and summary.json, what changed since the last run, the last 30 summaries
html = yes
pdf = no
archive = no
since_last_run = yes
history = 30
