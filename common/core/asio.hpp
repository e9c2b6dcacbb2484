// Include Boost.Asio through this header only:
//  * Boost 1.74's awaitable.hpp uses std::exchange without including <utility>, which g++ 12
//    in C++20 mode rejects;
//  * g++ 12 at -O2 flags Boost 1.74's scheduler (a thread_info cast) with -Wnull-dereference;
//    the diagnostic belongs to Boost, so it is silenced for Boost's headers only.
#pragma once
#include <utility>  // must precede boost/asio.hpp

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio.hpp>
#pragma GCC diagnostic pop
