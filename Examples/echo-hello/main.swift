// The seed article's bash example: echo "Hello World!" into echo-hello.stdout, then read it back.
import Foundation
import Sprig

let dfk = try DataFlowKernel()
let echoHello = try dfk.bashApp(name: "echo_hello") { () in "echo \"Hello World!\"" }

let done = echoHello(stdout: "echo-hello.stdout", stderr: "echo-hello.stderr")
_ = try done.result()
print(try String(contentsOfFile: "echo-hello.stdout", encoding: .utf8), terminator: "")
dfk.shutdown()
