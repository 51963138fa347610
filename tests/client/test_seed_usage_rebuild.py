"""The rules ``tools/seed_usage.py`` rebuilds the seed's usage code by, on a small document that needs each."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from seed_usage import usage_steps

DOCUMENT = """
import asyncio
# a loop
async def loop ():
while True :
try :
if not x ():
print ('down' )
except Exception as e :
print (e )
await asyncio .sleep (5 )
await asyncio .sleep (1 )
# a call
f ('s' , {
'k' : [1 , 2 ],
'j' : 1 # note
# callbacks
@d
async def cb (x ):
'symbol': 'EURUSD', # a sample of x
print (x )
@d
def cb2 ():
try :
g ()
except E :
""".splitlines()

EXPECTED = [
    ("imports", "import asyncio\n"),
    ("a loop", """# a loop
async def loop ():
    while True :
        try :
            if not x ():
                print ('down' )
        except Exception as e :
            print (e )
            await asyncio .sleep (5 )
        await asyncio .sleep (1 )
"""),
    ("a call", """# a call
f ('s' , {
    'k' : [1 , 2 ],
    'j' : 1 })  # note
"""),
    ("callbacks", """# callbacks
@d
async def cb (x ):
    # 'symbol': 'EURUSD', # a sample of x
    print (x )
@d
def cb2 ():
    try :
        g ()
    except E :
        pass  # the document ends here
"""),
]


def test_each_rule_rebuilds_its_part() -> None:
    steps = usage_steps(DOCUMENT)["steps"]
    assert [(step["title"], step["code"]) for step in steps] == EXPECTED
    for step in steps:
        compile(step["code"], step["title"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_field_only_classes_are_models() -> None:
    document = ["# options", "class Opts :", "retries : int = 5 # how many", "name : Optional [str ]", "# x", "x = 1"]
    found = usage_steps(document)["models"]
    assert found == [{"name": "Opts", "bases": [], "methods": [], "fields": [
        {"name": "retries", "annotation": "int", "default": "5", "comment": "how many"},
        {"name": "name", "annotation": "Optional[str]", "default": None, "comment": None},
    ]}]  # fmt: skip
