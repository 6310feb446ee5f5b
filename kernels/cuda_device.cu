// cuda_device.cu - how many CUDA devices there are, and their names.
//
// The runtime is linked statically, so these calls work on any machine:
// without a driver or a GPU cudaGetDeviceCount fails (cudaErrorNoDevice,
// cudaErrorInsufficientDriver, ...) and that simply means zero devices.
#include "config.h"

#include "cuda_check.h"
#include "kernels.h"

extern "C" int sr_cuda_device_count(void)
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError(); // leave no error behind for later checks
        return 0;
    }
    return count > 0 ? count : 0;
}

extern "C" int sr_cuda_device_name(int dev, char *buf, size_t len)
{
    if (!buf || len == 0)
        return -1;
    buf[0] = '\0';
    if (dev < 0 || dev >= sr_cuda_device_count())
        return -1;
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
        (void)cudaGetLastError();
        return -1;
    }
    prop.name[sizeof prop.name - 1] = '\0';
    snprintf(buf, len, "%s", prop.name);
    return 0;
}
