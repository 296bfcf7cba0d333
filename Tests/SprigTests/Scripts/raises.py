def inner():
    raise KeyError("missing thing")


inner()
