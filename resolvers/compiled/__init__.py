"""The compiled read path: one SQL statement per root field builds the answer's JSON.

``planner`` turns a read operation's selection into a plan (only when every
selected field is covered and allowed), ``sqlgen`` turns a plan and the
request's arguments into one statement, ``shape`` turns the statement's JSON
into the GraphQL answer exactly as the executor would render it, and ``run``
ties them together. Decisions and row reach come through ``access`` only.
"""
