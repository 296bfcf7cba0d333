"""The memoizer settings (sprig.memoizer) and how a Config carries them to the engine."""

import pytest

from sprig.config import Config
from sprig.errors import ConfigurationError
from sprig.memoizer import LOOK_UP, BasicMemoizer, period_seconds


def test_both_spellings_give_the_same_spec():
    current = Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit", checkpoint_files=["a/checkpoint"]))
    older = Config(checkpoint_mode="task_exit", checkpoint_files=["a/checkpoint"], app_cache=True)
    assert current.to_spec()["checkpoints"] == older.to_spec()["checkpoints"] == {
        "memoize": True, "mode": "task_exit", "files": ["a/checkpoint"], "period": None}
    assert Config(app_cache=False).to_spec()["checkpoints"]["memoize"] is False


def test_the_config_keeps_its_memoizer_object():
    memoizer = BasicMemoizer(checkpoint_mode="manual")
    assert Config(memoizer=memoizer).memoizer is memoizer


@pytest.mark.parametrize("period, seconds", [("00:00:02", 2.0), ("01:02:03", 3723.0), (None, None)])
def test_periods_are_parsls_hh_mm_ss(period, seconds):
    assert period_seconds(period) == seconds


@pytest.mark.parametrize("make, message", [
    (lambda: BasicMemoizer(checkpoint_mode="periodic"), "needs a checkpoint_period"),
    (lambda: BasicMemoizer(checkpoint_mode="periodic", checkpoint_period="2s"), "expected HH:MM:SS"),
    (lambda: BasicMemoizer(checkpoint_mode="sometimes"), "checkpoint_mode must be one of"),
    (lambda: Config(memoizer=BasicMemoizer(), checkpoint_mode="task_exit"), "not both"),
])
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_a_plugin_overriding_check_memo_is_noticed():
    class NeverReuse(BasicMemoizer):
        def check_memo(self, task_record):
            return None

    assert NeverReuse().overrides_check_memo and not BasicMemoizer().overrides_check_memo
    assert BasicMemoizer().check_memo({}) is LOOK_UP
