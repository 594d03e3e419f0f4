"""The compiled read path: one SQL statement per root field builds the answer's JSON.

``planner`` turns a read operation's selection into a plan (only when every
selected field is covered and allowed), ``sqlgen`` turns a plan and the
request's arguments into one statement that writes the answer's JSON text as
the executor would render it, ``answer`` checks every row's reach in that
text and writes the connection around the rows, and ``run`` ties them
together. Decisions and row reach come through ``access`` only.
"""
