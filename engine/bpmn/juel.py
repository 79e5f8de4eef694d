"""Camunda 7's expression language (JUEL), in the subset real diagrams use, translated to Tovholder's Python.

A Camunda 7 diagram writes conditions and values as `${approved}`,
`${days > 10 && !urgent}`, `${empty comment}`, `${reason != null}`,
`${dateTime().plusDays(3).toDate()}`. `translate` turns one such expression
into the sandboxed Python of engine.scripting, once, when the diagram is
deployed; at run time only ordinary sandboxed expressions run. A small real
parser (a tokenizer and recursive descent), so anything outside the subset is
refused with a message that names the expression and what in it is not
supported — never half-translated.

The subset and its Python:

    ${x}                        x
    ${!x}  ${not x}             (not x)
    ${a && b}  ${a and b}       (a and b)           likewise || / or
    ${x == 'a'}  ${x eq 'a'}    (x == 'a')          != ne < lt > gt <= le >= ge
    ${x == null}  ${x != null}  (x is None)  (x is not None)
    ${empty x}                  ((not x) and (x != 0))   None, '', [] and {} are empty; 0 and false are not
    ${a ? b : c}                (b if a else c)
    ${x.y}  ${x['y']}  ${x[0]}  x['y']  x['y']  x[0]       (case data are JSON objects)
    ${execution.getVariable('x')}   x
    ${now()}                    iso(now())
    ${dateTime().plusDays(n).toDate()}   iso(shift_time(now(), days=n))   plus/minus Years … Seconds

Values keep Python's meaning: no JUEL coercion between text and numbers,
and a variable the case data lacks fails the step (as Camunda fails on an
unknown identifier). Pure: no I/O, no SpiffWorkflow.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import NoReturn

# Camunda's own objects and variables of its engine: there is nothing in a Tovholder case they could mean.
_CAMUNDA_OBJECTS = {
    "execution": "the Camunda execution object", "task": "the Camunda task object",
    "externalTask": "the Camunda external task object", "connector": "Camunda Connect",
    "authenticatedUserId": "Camunda's authenticated user", "decisionResult": "a Camunda decision result",
    "variables": "Camunda's variable map", "loopCounter": "Camunda's multi-instance counter",
    "nrOfInstances": "Camunda's multi-instance counter", "nrOfActiveInstances": "Camunda's multi-instance counter",
    "nrOfCompletedInstances": "Camunda's multi-instance counter", "S": "Camunda Spin", "JSON": "Camunda Spin",
    "XML": "Camunda Spin",
}
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
                   "le": "<=", "ge": ">="}
_UNSUPPORTED_WORDS = {"div": "arithmetic ('div')", "mod": "arithmetic ('mod')", "instanceof": "'instanceof'"}
_SYMBOLS = ("==", "!=", "<=", ">=", "&&", "||", "->", "+=", "<", ">", "!", "?", ":", "(", ")", "[", "]", ".",
            ",", "+", "-", "*", "/", "%", "=", ";", "{", "}")
_ARITHMETIC = {"+", "-", "*", "/", "%"}
_COMPARISONS = {"==", "!=", "<", ">", "<=", ">="}
# dateTime() methods (Joda-Time, as Camunda gives it): the unit each one moves, and the direction.
_SHIFTS = {f"{sign}{unit.capitalize()}": (unit, -1 if sign == "minus" else 1)
           for sign in ("plus", "minus") for unit in ("years", "months", "weeks", "days", "hours", "minutes",
                                                       "seconds")}
_NUMBER = re.compile(r"(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
SUPPORTED = ("names, 'text', numbers, true, false, null, ! not, && and, || or, == != < > <= >= (and eq ne lt gt "
             "le ge), empty, a ? b : c, x.y, x['y'], x[0], now() and dateTime().plusDays(n).toDate()")


class JuelError(ValueError):
    """An expression outside the supported subset, or not a valid expression; the message names it."""


def is_expression(text: str | None) -> bool:
    """True if the text holds a JUEL expression (`${…}` or `#{…}`)."""
    return text is not None and ("${" in text or "#{" in text)


def shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


# -- tokens ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "id", "op", "end"
    value: object
    pos: int


def _tokens(source: str, start: int, expression: str) -> tuple[list[Token], int]:
    """Tokens from `start` up to the `}` that closes the expression; returns them and the position after it."""
    found: list[Token] = []
    pos = start
    while True:
        while pos < len(source) and source[pos].isspace():
            pos += 1
        if pos >= len(source):
            raise JuelError(f"{shown(expression)}: the expression is not closed with '}}'")
        char = source[pos]
        if char == "}":
            found.append(Token("end", None, pos))
            return found, pos + 1
        if char in "'\"":
            value, pos = _string(source, pos, expression)
            found.append(Token("str", value, pos))
            continue
        number = _NUMBER.match(source, pos)
        if number and (char.isdigit() or (char == "." and number.end() > pos + 1)):
            text = number.group(0)
            found.append(Token("num", float(text) if any(c in text for c in ".eE") else int(text), pos))
            pos = number.end()
            continue
        ident = _IDENT.match(source, pos)
        if ident:
            found.append(Token("id", ident.group(0), pos))
            pos = ident.end()
            continue
        symbol = next((s for s in _SYMBOLS if source.startswith(s, pos)), None)
        if symbol is None:
            raise JuelError(f"{shown(expression)}: unexpected character {char!r}")
        found.append(Token("op", symbol, pos))
        pos += len(symbol)


def _string(source: str, pos: int, expression: str) -> tuple[str, int]:
    quote, pos, out = source[pos], pos + 1, []
    while pos < len(source):
        char = source[pos]
        if char == "\\":
            following = source[pos + 1:pos + 2]
            if following not in ("\\", "'", '"'):
                raise JuelError(f"{shown(expression)}: in a string, '\\' may only escape \\, ' or \"")
            out.append(following)
            pos += 2
            continue
        if char == quote:
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    raise JuelError(f"{shown(expression)}: a string is not closed")


# -- the tree ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    kind: str           # literal, name, not, empty, neg, and, or, compare, ternary, index, member, call, method
    value: object = None
    args: tuple = ()


NULL = Node("literal", None)


class _Parser:
    def __init__(self, tokens: list[Token], expression: str):
        self.tokens, self.expression, self.at = tokens, expression, 0

    def fail(self, message: str) -> NoReturn:
        raise JuelError(f"{shown(self.expression)}: {message}")

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def is_op(self, *symbols: str) -> str | None:
        token = self.token
        if token.kind == "op" and token.value in symbols:
            return str(token.value)
        if token.kind == "id" and _WORD_OPERATORS.get(str(token.value)) in symbols:
            return _WORD_OPERATORS[str(token.value)]
        return None

    def take(self, *symbols: str) -> str | None:
        found = self.is_op(*symbols)
        if found is not None:
            self.at += 1
        return found

    def expect(self, symbol: str) -> None:
        if self.take(symbol) is None:
            self.fail(f"expected '{symbol}' {self._where()}")

    def _where(self) -> str:
        token = self.token
        return "at the end" if token.kind == "end" else f"before {self._describe(token)}"

    @staticmethod
    def _describe(token: Token) -> str:
        return repr(token.value) if token.kind != "str" else "a string"

    def parse(self) -> Node:
        if self.token.kind == "end":
            self.fail("the expression is empty")
        node = self.ternary()
        if self.token.kind != "end":
            self._refuse_operator(self.token)
            self.fail(f"unexpected {self._describe(self.token)}")
        return node

    def _refuse_operator(self, token: Token) -> None:
        if token.kind == "op" and token.value in _ARITHMETIC:
            self.fail(f"arithmetic ('{token.value}') is not supported in expressions here; compute the value "
                      "in a script task (Python) and test the result")
        if token.kind == "op" and token.value in ("=", "+=", ";", "->", "{", "}"):
            self.fail(f"'{token.value}' (JUEL 3 assignments, lambdas and collections) is not supported")
        if token.kind == "id" and token.value in _UNSUPPORTED_WORDS:
            self.fail(f"{_UNSUPPORTED_WORDS[str(token.value)]} is not supported")

    def ternary(self) -> Node:
        condition = self.disjunction()
        if self.take("?") is None:
            return condition
        when_true = self.ternary()
        self.expect(":")
        return Node("ternary", None, (condition, when_true, self.ternary()))

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.take("||"):
            node = Node("or", None, (node, self.conjunction()))
        return node

    def conjunction(self) -> Node:
        node = self.equality()
        while self.take("&&"):
            node = Node("and", None, (node, self.equality()))
        return node

    def equality(self) -> Node:
        node = self.relation()
        while (op := self.take("==", "!=")) is not None:
            node = Node("compare", op, (node, self.relation()))
        return node

    def relation(self) -> Node:
        node = self.unary()
        while (op := self.take("<", ">", "<=", ">=")) is not None:
            node = Node("compare", op, (node, self.unary()))
        self._refuse_operator(self.token)
        return node

    def unary(self) -> Node:
        if self.take("!"):
            return Node("not", None, (self.unary(),))
        if self.token.kind == "id" and self.token.value == "empty":
            self.at += 1
            return Node("empty", None, (self.unary(),))
        if self.take("-"):
            operand = self.unary()
            value = operand.value
            if operand.kind != "literal" or isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail("'-' is supported before a number only (arithmetic is not supported)")
                raise AssertionError
            return Node("literal", -value)
        return self.postfix(self.primary())

    def primary(self) -> Node:
        token = self.token
        if token.kind in ("num", "str"):
            self.at += 1
            return Node("literal", token.value)
        if self.take("("):
            node = self.ternary()
            self.expect(")")
            return node
        if token.kind == "id":
            name = str(token.value)
            self.at += 1
            if name in ("true", "false", "null"):
                return Node("literal", {"true": True, "false": False, "null": None}[name])
            if name in _WORD_OPERATORS or name in _UNSUPPORTED_WORDS or name == "empty":
                self.at -= 1
                self._refuse_operator(self.token)
                self.fail(f"'{name}' cannot stand here")
            if self.take("("):
                return Node("call", name, tuple(self.arguments()))
            return Node("name", name)
        self._refuse_operator(token)
        self.fail(f"unexpected {self._describe(token)}" if token.kind != "end" else "the expression ends too soon")
        raise AssertionError  # fail() raised

    def arguments(self) -> list[Node]:
        found: list[Node] = []
        if self.take(")"):
            return found
        while True:
            found.append(self.ternary())
            if self.take(")"):
                return found
            self.expect(",")

    def postfix(self, node: Node) -> Node:
        while True:
            if self.take("."):
                token = self.token
                if token.kind != "id":
                    self.fail(f"expected a name after '.' {self._where()}")
                self.at += 1
                if self.take("("):
                    node = Node("method", token.value, (node, *self.arguments()))
                else:
                    node = Node("member", token.value, (node,))
            elif self.take("["):
                key = self.ternary()
                self.expect("]")
                node = Node("index", None, (node, key))
            else:
                return node


# -- Python ------------------------------------------------------------------------------------------

class _Emitter:
    def __init__(self, expression: str):
        self.expression = expression

    def fail(self, message: str) -> NoReturn:
        raise JuelError(f"{shown(self.expression)}: {message}")

    def emit(self, node: Node) -> str:
        handler = getattr(self, f"_{node.kind}")
        return handler(node)

    def _literal(self, node: Node) -> str:
        return repr(node.value)

    def _name(self, node: Node) -> str:
        name = str(node.value)
        if name in _CAMUNDA_OBJECTS:
            self.fail(f"'{name}' is {_CAMUNDA_OBJECTS[name]}, which Tovholder has no counterpart for; "
                      "use a field of the case data")
        if "$" in name or name.startswith("_") or keyword.iskeyword(name) or keyword.issoftkeyword(name):
            self.fail(f"the name '{name}' cannot be a case-data field here (it starts with '_', holds '$' or "
                      "is a Python keyword); rename the variable")
        return name

    def _not(self, node: Node) -> str:
        return f"(not {self.emit(node.args[0])})"

    def _empty(self, node: Node) -> str:
        operand = self.emit(node.args[0])
        return f"((not {operand}) and ({operand} != 0))"

    def _and(self, node: Node) -> str:
        return f"({self.emit(node.args[0])} and {self.emit(node.args[1])})"

    def _or(self, node: Node) -> str:
        return f"({self.emit(node.args[0])} or {self.emit(node.args[1])})"

    def _compare(self, node: Node) -> str:
        left, right = node.args
        op = str(node.value)
        if op in ("==", "!=") and NULL in (left, right):
            other = right if left == NULL else left
            return f"({self.emit(other)} {'is' if op == '==' else 'is not'} None)"
        return f"({self.emit(left)} {op} {self.emit(right)})"

    def _ternary(self, node: Node) -> str:
        condition, when_true, when_false = (self.emit(n) for n in node.args)
        return f"({when_true} if {condition} else {when_false})"

    def _member(self, node: Node) -> str:
        return f"{self.emit(node.args[0])}[{str(node.value)!r}]"

    def _index(self, node: Node) -> str:
        return f"{self.emit(node.args[0])}[{self.emit(node.args[1])}]"

    def _call(self, node: Node) -> str:
        if node.value == "now" and not node.args:
            return "iso(now())"
        if node.value == "dateTime" and not node.args:
            return "iso(now())"
        self.fail(f"the function {node.value}() is not supported (only now() and dateTime())")
        raise AssertionError

    def _method(self, node: Node) -> str:
        target, *args = node.args
        if target == Node("name", "execution") and node.value == "getVariable" and len(args) == 1:
            name = args[0]
            if name.kind == "literal" and isinstance(name.value, str):
                return self._name(Node("name", name.value))
        moment = self._moment(node)
        if moment is not None:
            return f"iso({moment})"
        self.fail(f"calling the method {node.value}() is not supported (Java methods and beans do not run here; "
                  "of dateTime() the plus…/minus… methods and toDate() are)")
        raise AssertionError

    def _moment(self, node: Node) -> str | None:
        """`dateTime().plusDays(n)...[.toDate()]` as nested shift_time calls; None if it is no such chain."""
        if node.kind == "call" and node.value == "dateTime" and not node.args:
            return "now()"
        if node.kind != "method":
            return None
        target, *args = node.args
        inner = self._moment(target)
        if inner is None:
            return None
        if node.value == "toDate" and not args:
            return inner
        if node.value not in _SHIFTS:
            self.fail(f"dateTime().{node.value}() is not supported (plus…/minus… Years, Months, Weeks, Days, Hours, "
                      "Minutes, Seconds, and toDate())")
        if len(args) != 1:
            self.fail(f"{node.value}() takes one number")
        unit, sign = _SHIFTS[str(node.value)]
        amount = self.emit(args[0])
        if sign < 0:
            amount = repr(-args[0].value) if args[0].kind == "literal" and isinstance(
                args[0].value, (int, float)) else f"(-{amount})"
        return f"shift_time({inner}, {unit}={amount})"


def translate(text: str) -> str:
    """One `${…}` (or `#{…}`) expression, alone in the text, as a sandboxed Python expression.

    Raises JuelError, naming the expression, for text around the expression,
    anything outside the subset (see the module doc) and syntax errors.
    """
    stripped = text.strip()
    if not stripped.startswith(("${", "#{")):
        raise JuelError(f"{shown(text)}: text and a ${{…}} expression are mixed; Tovholder takes one expression "
                        "alone, e.g. ${approved}")
    tokens, end = _tokens(stripped, 2, stripped)
    if stripped[end:].strip():
        raise JuelError(f"{shown(text)}: text and a ${{…}} expression are mixed; Tovholder takes one expression "
                        "alone, e.g. ${approved}")
    return _Emitter(stripped).emit(_Parser(tokens, stripped).parse())
