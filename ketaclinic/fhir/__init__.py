"""FHIR R4 exchange: the read API at /fhir/R4, Bulk Data export, and import of patients' records.

The relational tables stay the source of truth; FHIR is a mapping over them (resources/), with every code
and system named once in codes.py.
"""
