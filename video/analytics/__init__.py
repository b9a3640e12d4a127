"""The video analytics pipeline: plain Python on OpenCV and NumPy, with no Django import.

Frames come from a source (``source``), pass a cheap motion gate (``motion``); only where and
when something moves do the detectors (``detectors``) and the tracker (``tracking``) run; rule
evaluators (``rules``) turn what is seen into events. ``privacy`` blacks out masks and blurs
faces and persons before any image leaves the pipeline. We detect events, never identities.
"""
