"""Booking rules, one home for each: the slot grid, a slot's capacity, online holds
and booking references.

Staff writes, online booking, availability and erasure all use these, so a slot
means the same thing, and is counted the same way, wherever it is asked about.
The package sits on the persistence layer (``store``) and below everything that
decides who may do what.
"""
