"""Parsl's radio configs are accepted as executors' remote_monitoring_radio, with Parsl's defaults."""

import pytest

from sprig.executors import BlockProviderExecutor, HighThroughputExecutor, ThreadPoolExecutor
from sprig.radios import FilesystemRadio, HTEXRadio, MultiprocessingQueueRadio, UDPRadio


def test_defaults_and_given_radios() -> None:
    assert isinstance(HighThroughputExecutor().remote_monitoring_radio, HTEXRadio)
    assert isinstance(ThreadPoolExecutor().remote_monitoring_radio, MultiprocessingQueueRadio)
    radio = UDPRadio(address="localhost", atexit_timeout=0)
    assert ThreadPoolExecutor(remote_monitoring_radio=radio).remote_monitoring_radio is radio
    assert isinstance(HighThroughputExecutor(remote_monitoring_radio=FilesystemRadio()).remote_monitoring_radio, FilesystemRadio)
    with pytest.raises(TypeError, match="remote_monitoring_radio"):
        ThreadPoolExecutor(remote_monitoring_radio="udp")


def test_only_the_process_executor_is_a_block_provider_executor() -> None:
    assert isinstance(HighThroughputExecutor(), BlockProviderExecutor)
    assert not isinstance(ThreadPoolExecutor(), BlockProviderExecutor)
