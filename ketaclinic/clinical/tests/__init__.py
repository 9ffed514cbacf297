"""Tests of the pure clinical library: plain pytest and Hypothesis, no Django."""
