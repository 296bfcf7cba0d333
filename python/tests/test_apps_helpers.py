"""sprig.apps: what the engine asks of Python functions."""

from sprig.apps import accepted_keywords, app_name


def takes_inputs(a, inputs=(), *, outputs=()):
    return a


def takes_anything(**kwargs):
    return kwargs


def test_declared_keywords_are_found():
    assert accepted_keywords(takes_inputs) == (False, ["a", "inputs", "outputs"])


def test_var_keywords_accept_everything():
    assert accepted_keywords(takes_anything)[0] is True


def test_callables_without_signatures_accept_everything():
    # builtin types such as dict have no introspectable signature
    assert accepted_keywords(dict) == (True, [])


def test_names_are_module_qualified():
    assert app_name(takes_inputs) == "test_apps_helpers.takes_inputs"
    assert app_name(lambda x: x).endswith("<lambda>")
