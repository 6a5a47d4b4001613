// TabTable module.
