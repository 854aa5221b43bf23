"""Synthetic elections with exact ground truth: official results, camera video, fraud, sabotage.

Only this package writes a case's truth/ folder. Analysis code never imports from here.
"""
