"""mobilestyle.labelled: the LABEL=VALUE words the benchmark scripts take."""

import pytest

from mobilestyle.errors import UserError
from mobilestyle.labelled import labelled_values


def test_words_keep_their_order_and_split_at_the_first_equals():
    named = labelled_values("--student", ["b=x.npz", "a=runs/k=v/y.npz", "batch norm, shipped=models/muse.npz"])
    assert list(named) == ["b", "a", "batch norm, shipped"]
    assert named["a"] == "runs/k=v/y.npz"


@pytest.mark.parametrize("word", ["x.npz", "=x.npz", "label="])
def test_a_word_without_a_label_or_a_value_is_refused_with_the_form_wanted(word):
    with pytest.raises(UserError) as caught:
        labelled_values("--run", [word], "LABEL=WORK_FOLDER")
    assert str(caught.value) == f"--run wants LABEL=WORK_FOLDER, got {word!r}"


def test_a_label_given_twice_is_refused():
    with pytest.raises(UserError, match="^--student a is given twice$"):
        labelled_values("--student", ["a=x.npz", "a=y.npz"])
