"""Battery level from an ADC reading of a divided cell voltage, integer only."""
from micropython import const

EMPTY_MV = const(3300)   # a LiPo under light load: the regulator drops out below this
FULL_MV = const(4200)


class Battery:
    def __init__(self, adc, full_scale_mv, divider):
        """adc: machine.ADC; full_scale_mv: millivolts at read_u16() == 65535; divider: cell / pin voltage."""
        self.adc = adc
        self.full_scale_mv = full_scale_mv
        self.divider = divider

    def millivolts(self):
        return self.adc.read_u16() * self.full_scale_mv * self.divider // 65535

    def percent(self):
        mv = self.millivolts()
        if mv <= EMPTY_MV:
            return 0
        if mv >= FULL_MV:
            return 100
        return (mv - EMPTY_MV) * 100 // (FULL_MV - EMPTY_MV)
