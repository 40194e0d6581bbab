"""The semantic-reach options measured by eval/semantic_reach.py: what each adds, and that
the product's matcher is left as it was."""

from __future__ import annotations

from eval.semantic_reach import concepts_installed, cooccurrence_groups, wordnet_groups
from okrbot.domain.matching import KrEvidence, Matcher

# WordNet's index format: lemma pos synset_cnt p_cnt [pointers] sense_cnt tagsense_cnt offsets...
INDEX_NOUN = """\
  1 This software and database is being provided to you, the LICENSEE, by
churn n 2 1 @ 2 1 00000001 00000009
attrition n 1 1 @ 1 0 00000001
butter_churn n 1 1 @ 1 0 00000009
lonely n 1 0 1 0 00000005
"""


def test_wordnet_joins_each_word_to_its_most_frequent_senses_only(tmp_path):
    (tmp_path / "index.noun").write_text(INDEX_NOUN)
    (tmp_path / "index.verb").write_text("")
    (tmp_path / "index.adj").write_text("")
    first = sorted(map(sorted, wordnet_groups(tmp_path, senses=1).values()))
    both = sorted(map(sorted, wordnet_groups(tmp_path, senses=2).values()))
    assert first == [["attrition", "churn"]]  # "butter churn" is churn's second sense
    assert both == [["attrition", "churn"], ["butter churn", "churn"]]


def test_cooccurrence_groups_words_seen_together_in_two_texts():
    texts = ["Bitswap fetch speed", "faster bitswap fetch", "hire two designers"]
    assert list(cooccurrence_groups(texts).values()) == [["bitswap", "fetch"]]


def test_an_installed_group_reaches_a_kr_and_is_gone_afterwards():
    krs = [KrEvidence("KR-1", "Grow the gateway", "Fast"), KrEvidence("KR-2", "Hire two designers", "Team")]
    with concepts_installed({"test": ["zorbish", "gateway"]}):
        assert [m.kr_id for m in Matcher(krs, threshold=0.0).match("zorbish")] == ["KR-1"]
    assert Matcher(krs, threshold=0.0).match("zorbish") == []
