# The keys of update_bundle.bin, a small update bundle (monitor/bundle.py) signed with pyhsslms
# (host_tools/release.py), for the device's staging code on the MicroPython unix port and CPython (test_update_stage.py). OTHER_KEY signed nothing here.
PUBLIC_KEY = '000000010000000500000003e6f658370147662ac9b76695ec2723565657a84b4eaf5c9bf2648f62e4ae07abc0a32eec582800c317f5e6ed92b92078'
OTHER_KEY = '000000010000000500000003d12cffddfc39e6df561fd3d3bcb9ad69abe26d166dfee926ea77cae256ed38564a9ac69937c60aa5e32651a8015ee753'
HEADER_SIZE = 2537
