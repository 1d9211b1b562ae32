"""Prevention and partnership: trainings, and funding against the CPC envelope, as the
indicator file's `figures: prevention_partnership:` declares them."""
from cpc_monitor.app import figure_page

figure_page.render("prevention_partnership", "Prevention & partnership", "trainings and funding",
                   ("prevention", "partnership"))
