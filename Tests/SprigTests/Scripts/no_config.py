from parsl.app.app import python_app


@python_app
def noop():
    return None


noop()
