"""Prosecution: investigations to prosecutions to convictions, time from charge to outcome,
outcomes and sentences, as the indicator file's `figures: prosecution:` declares them."""
from cpc_monitor.app import figure_page

figure_page.render("prosecution", "Prosecution", "from investigation to conviction", ("prosecution",))
