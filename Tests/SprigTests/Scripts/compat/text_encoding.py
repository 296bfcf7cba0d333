# Non-ASCII text in a script, in files opened without an encoding, in apps and in bash apps.
import os
import sys

from parsl.app.app import bash_app, python_app

folder = sys.argv[1]


@python_app
def greet(name):
    print("app says café")  # a thread-executor app prints through this process's stdout
    return f"bonjour {name} — ça va"


@bash_app
def echo(word, stdout=None):
    return f"echo {word}"


print("café — ünïcödé")
path = os.path.join(folder, "text.txt")
with open(path, "w") as f:
    f.write("naïve\n")
with open(path) as f:
    assert f.read() == "naïve\n"
assert sys.stdout.encoding.lower().replace("-", "") == "utf8", sys.stdout.encoding
print(greet("Zoë").result())
out = os.path.join(folder, "echo.out")
assert echo("déjà", stdout=out).result() == 0
with open(out, encoding="utf-8") as f:
    print("bash", f.read().strip())
