# The firmware's version, as the screen, Device Information and the host show it.  A release bundle
# (`e2mon release build`) replaces this file with its own version and sequence; a tree deployed from
# source over USB is "dev", sequence 0 (any signed release may replace it).
VERSION = "dev"
SEQUENCE = 0     # orders releases: an update with a lower one is a downgrade
