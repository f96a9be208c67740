"""The UDS (ISO 14229) identifiers, routines and thresholds the manufacturer defines for its ECUs, which a flash, a
key and an unlock are done with: the agent speaks them, the simulated ECUs answer them."""

TESTER_ADDRESS = 0x0E80  # the workshop's tester on DoIP
PROGRAMMING_LEVEL = 0x11  # security access for programming: requestSeed (sendKey is 0x12)
# data identifiers
DID_VIN, DID_PART, DID_HARDWARE, DID_SOFTWARE, DID_SESSION, DID_VOLTAGE, DID_STATE = (
    0xF190, 0xF187, 0xF191, 0xF189, 0xF186, 0xDD02, 0xDD10)
DID_KEYS = 0xAB10  # the immobiliser's key slots: slot (1 byte) and the transponder's id (8 bytes)
DID_SERIAL = 0xF18C  # the unit's serial number (ECUSerialNumberDataIdentifier)
DID_PAIRED = 0xDD11  # a theft-relevant unit: 1 paired to its car, 0 not (a replacement waiting for SERMI work)
BLANK_VIN = b"\xff" * 17  # what a factory-new unit answers for its VIN: erased, never written
# routines
ERASE, CHECK = 0xFF00, 0xFF01
UNLOCK_CHALLENGE, UNLOCK = 0x0F10, 0x0F11  # the secure gateway's one-time challenge, and the token for it
PAIR_CHALLENGE, PAIR = 0x0F20, 0x0F21  # a theft-relevant replacement's pairing challenge, and the token for it
MIN_PROGRAMMING_VOLTAGE_MV = 12200  # below this a flash risks bricking an ECU: the car needs a charger
BOOTLOADER = "BOOTLOADER"  # what an ECU whose flash was erased and not completed says it runs
