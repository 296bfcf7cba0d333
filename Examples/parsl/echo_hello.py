# The seed article's bash_app program, unchanged: echo into a file, then read the file back.
import parsl
from parsl.app.app import bash_app
from parsl.configs.local_threads import config

parsl.load(config)


@bash_app
def echo_hello(stdout='echo-hello.stdout', stderr='echo-hello.stderr'):
    return 'echo "Hello World!"'


echo_hello().result()

with open('echo-hello.stdout', 'r') as f:
    print(f.read())
