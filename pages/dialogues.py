"""Dialogues: each target a bilateral dialogue agreed against what was achieved, and what
the next dialogue should agree to stay on the path to 2030 (`dialogues:` in the indicator file)."""
import streamlit as st

from cpc_monitor.app import cache, downloads, header, sidebar
from cpc_monitor.evaluation import dialogues
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.present import dialogue_tables
from cpc_monitor.present.formatting import as_markdown_frame, as_markdown_text as text

# Dialogue targets are national: they are held against national figures, whatever the filters.
_, safe = sidebar.current_filters()
filters = Filters()
iset = cache.indicator_set()
header.page_header("Dialogues", ["indicators.yaml"], "targets agreed at each dialogue, and whether they were met",
                   filtered=False)
ev = cache.evaluation(filters)
limit = cache.min_cell()
if not iset.dialogues:
    st.info("The indicator file records no dialogues yet. Add them under `dialogues:` in indicators.yaml "
            "(docs/indicators.md, \"Dialogues\").")
    st.stop()

names = {d.id: f"{d.name} · {d.when}" for d in iset.dialogues}
chosen = iset.dialogue(st.selectbox("Dialogue", list(names), index=len(names) - 1, format_func=names.get,
                                    key="dialogue"))
values = cache.shown_values(filters, safe)
review = dialogues.review(chosen, ev, values)
st.markdown(f"**{text(chosen.name)}**, {chosen.when}" + (f", {text(chosen.place)}" if chosen.place else "")
            + (f"  \nSource: {text(chosen.source)}" if chosen.source else ""))
st.markdown(f"##### {dialogue_tables.review_summary(review)}")
st.table(as_markdown_frame(dialogue_tables.review_table(review, limit)), hide_index=True, border="horizontal")
if safe and (review["outcome"] == dialogues.HIDDEN).any():
    st.caption(f"Presentation-safe numbers: a value below {limit} is hidden, and whether its target was met "
               "with it.")

st.markdown("##### What the next dialogue should agree")
st.caption("For each indicator with a 2030 target: the value the next year should reach to stay on the straight "
           "path from the latest value to the target (the latest value, where the target is already met). "
           "Where the status reads too few cases to judge, a yearly target rests on little evidence: agree it "
           "over several years.")
proposals = dialogues.proposals(ev, values)
st.table(as_markdown_frame(dialogue_tables.proposal_table(proposals, limit)), hide_index=True, border="horizontal")

# Downloads are always suppressed, whatever the switch says.
safe_values = values if safe else cache.shown_values(filters, True)
downloads.download_csv(dialogue_tables.review_table(dialogues.review(chosen, ev, safe_values), limit),
                       f"dialogue-{chosen.id}", label_text="Download this dialogue's targets (CSV)", key="dialogue_csv")
