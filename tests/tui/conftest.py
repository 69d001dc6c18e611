import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The models here are tiny: one intra-op thread is faster, and it leaves a core to the UI loop
    (torch's spinning worker threads slow a step fifty-fold when another process holds the cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
