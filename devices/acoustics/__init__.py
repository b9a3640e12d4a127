"""Sound analytics, as plain Python (numpy and scipy, no Django import).

Audio arrives in blocks of float samples with the sensor's own clock; the analysis keeps only a
few seconds in memory and gives out levels and sound events, never samples. Multilateration
locates an impulse heard by several sensors from its arrival times.
"""
