"""The scale benchmark: `make bench` or `python -m bench [--groups N]`.

Not part of the test suite. It builds one big company (100,000 groups by default) in a
fresh database and prints how long the operations the issues ask about take, with the
number of SQL queries each ran. It never asserts a timing: the numbers are for people.
"""
